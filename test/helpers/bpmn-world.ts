import { testClock, type TestClock } from './clock.ts'
import { testContext, type Teardown, type TestContext } from './context.ts'
import { caller, type Caller } from './api.ts'

/** A task row as a dossier's page lists it. */
export interface DossierTask {
  id: string
  activityId: string
  status: string
}

/** One deployed diagram and an officer of the default agency who works it, on a clock the test moves. */
export interface BpmnWorld {
  ctx: TestContext
  clock: TestClock
  officer: Caller
}

/** Deploys `diagram` (it must be new: 201) on a fresh app; the officer is in `groups`. */
export async function bpmnWorld(t: Teardown, diagram: string, opts: { now?: string; groups?: string[] } = {}): Promise<BpmnWorld> {
  const clock = testClock(opts.now ?? '2026-11-23T02:00:00Z')
  const ctx = await testContext(t, { clock })
  const r = await ctx.deploy(diagram)
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  const officer = await caller(ctx, { userId: 'can-bo', roles: ['officer'], groups: opts.groups ?? ['specialists', 'leaders'] })
  return { ctx, clock, officer }
}

/** `as` submits a dossier of `procedureCode` with `data` at the counter (201 expected): the answer's body. */
export async function submitAtCounter<T extends DossierTask = DossierTask>(
  as: Caller,
  procedureCode: string,
  data: Record<string, unknown> = {},
  applicant = { name: 'Lê Thị Hoa', idNumber: '001190054321' },
): Promise<{ dossier: { id: string; code: string }; tasks: T[] }> {
  const r = await as.post('/api/dossiers', { procedureCode, applicant, channel: 1, data })
  if (r.status !== 201) throw new Error(JSON.stringify(r.body))
  return r.body
}

/** The world's officer submits a dossier of `procedureCode` at the counter. */
export async function submitDossier(
  w: BpmnWorld,
  procedureCode: string,
  applicant = { name: 'Lê Thị Hoa', idNumber: '001190054321' },
): Promise<{ id: string; code: string; tasks: DossierTask[] }> {
  const { dossier, tasks } = await submitAtCounter(w.officer, procedureCode, {}, applicant)
  return { id: dossier.id, code: dossier.code, tasks }
}

/** The dossier's open tasks. */
export async function openTasks(w: BpmnWorld, dossierId: string): Promise<DossierTask[]> {
  const tasks: DossierTask[] = (await w.officer.get(`/api/dossiers/${dossierId}`)).body.tasks
  return tasks.filter((x) => x.status === 'open')
}

/** Activity ids of tasks, sorted: what a test compares. */
export const activityIds = (tasks: DossierTask[]) => tasks.map((x) => x.activityId).sort()

/** The open task of `activityId` (fails the test with the open ones when there is none). */
export async function openTask(w: BpmnWorld, dossierId: string, activityId: string): Promise<DossierTask> {
  const open = await openTasks(w, dossierId)
  const task = open.find((x) => x.activityId === activityId)
  if (!task) throw new Error(`no open task ${activityId} (open: ${activityIds(open).join(', ')})`)
  return task
}

/** Completes the open task of `activityId` (200 expected). */
export async function completeActivity(w: BpmnWorld, dossierId: string, activityId: string, variables: Record<string, unknown> = {}) {
  const r = await w.officer.post(`/api/tasks/${(await openTask(w, dossierId, activityId)).id}/complete`, { variables })
  if (r.status !== 200) throw new Error(JSON.stringify(r.body))
  return r.body as { processEnded: boolean; nextTasks: DossierTask[] }
}
