import type { Tx } from '../db/knex.ts'
import { AppError } from '../errors.ts'
import { EngineStepError, type EngineRunner, type StepAction, type StepResult } from '../engine/runtime.ts'
import type { ProcedureVersionRow } from '../procedures/procedure.repository.ts'
import type { ProcedureVersionCache } from '../procedures/version-cache.ts'
import type { InstanceRepository, InstanceRow } from '../records/instance.repository.ts'

/**
 * Runs the engine for one step, writing nothing: from the saved state (given, or read when the engine
 * does not hold the instance in memory), or a new instance for `start` (`tx` null: nothing to read).
 * The engine's refusals become coded errors.
 */
export async function runEngine(
  deps: { engine: EngineRunner; versions: ProcedureVersionCache; instances: InstanceRepository },
  tx: Tx | null,
  instance: Pick<InstanceRow, 'id' | 'step_id'>,
  version: ProcedureVersionRow,
  action: StepAction,
  state?: { saved: unknown },
): Promise<StepResult> {
  const load = async () => (state ? state.saved : tx ? ((await deps.instances.state(tx, instance.id).one())?.state ?? null) : null)
  try {
    return await deps.engine.step(instance.id, instance.step_id, deps.versions.sourceContext(version), load, action)
  } catch (err) {
    if (err instanceof EngineStepError && err.interrupted) {
      throw new AppError('TASK_CANCELLED', 'Công việc đã bị hủy do quá thời hạn (sự kiện hẹn giờ) trước khi được hoàn thành', {
        activityId: err.activityId,
      })
    }
    if (err instanceof EngineStepError && err.uncorrelated) {
      throw new AppError(
        'MESSAGE_NOT_CORRELATED',
        'Không có bước nào của quy trình đang chờ thông điệp này (hoặc biến của quy trình không khớp)',
        {
          activityId: err.activityId,
        },
      )
    }
    if (err instanceof EngineStepError && err.uncaughtError !== undefined) {
      throw new AppError(
        'BPMN_ERROR_NOT_CAUGHT',
        `Không có sự kiện bắt lỗi nào (boundary error) nhận mã lỗi "${err.uncaughtError}" ném từ bước ${err.activityId}: hồ sơ không thay đổi`,
        { activityId: err.activityId, errorCode: err.uncaughtError },
      )
    }
    if (err instanceof EngineStepError && err.uncaughtEscalation !== undefined) {
      throw new AppError(
        'ESCALATION_NOT_CAUGHT',
        `Không có sự kiện nào bắt escalation mã "${err.uncaughtEscalation}" từ bước ${err.activityId}: hồ sơ không thay đổi`,
        { activityId: err.activityId, escalationCode: err.uncaughtEscalation },
      )
    }
    if (err instanceof EngineStepError) {
      throw new AppError('PROCESS_STEP_FAILED', `Không thể chuyển bước xử lý: ${err.message}`, {
        activityId: err.activityId,
        ...err.noWayOut,
      })
    }
    throw err
  }
}
