/** Something that can (re)schedule a delayed job; the BullMQ timers queue in production. */
export interface TimerScheduler {
  add(name: string, data: Record<string, unknown>, opts: { jobId: string; delay: number }): Promise<unknown>
}

/**
 * Queues a delayed job for every pending row, page by page in id order. Jobs are keyed by row id, so
 * rows whose job still exists are untouched and those Redis lost are queued again.
 */
export async function queueEveryPending<R extends { id: string }>(opts: {
  scheduler: TimerScheduler
  page: (afterId: string | undefined) => Promise<R[]>
  now: () => Date
  job: (row: R) => { name: string; data: Record<string, unknown>; jobId: string; dueAt: Date }
}): Promise<number> {
  let n = 0
  let afterId: string | undefined
  for (;;) {
    const rows = await opts.page(afterId)
    if (!rows.length) return n
    const now = opts.now().getTime()
    await Promise.all(
      rows.map((row) => {
        const j = opts.job(row)
        return opts.scheduler.add(
          j.name,
          { ...j.data, dueAt: j.dueAt.toISOString() },
          { jobId: j.jobId, delay: Math.max(0, j.dueAt.getTime() - now) },
        )
      }),
    )
    n += rows.length
    afterId = rows[rows.length - 1]!.id
  }
}
