import { Queue, type ConnectionOptions } from 'bullmq'

/** Every BullMQ queue of the system, in one place. */
export const QUEUE = {
  /** Status changes to push to the National Public Service Portal (đồng bộ DVCQG). */
  dossierEvents: 'dossier-events',
  /** BPMN timers and working-day deadlines, as delayed jobs. */
  timers: 'timers',
  /** Handoffs to other agencies' systems (liên thông), one job per attempt, run by their adapters. */
  handoffs: 'handoffs',
  /** Email, SMS and webhook messages to applicants (thông báo cho người nộp hồ sơ), one job per attempt. */
  citizenNotifications: 'citizen-notifications',
  /** Callbacks owed to peer deployments whose dossiers ended here (liên thông trả kết quả). */
  peerCallbacks: 'peer-callbacks',
} as const
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE]

/** Where an outbox topic goes: a job added to a queue, or a job removed from it. */
export const TOPIC_ROUTE: Record<string, { queue: QueueName; action: 'add' | 'remove' }> = {
  'dossier.status-changed': { queue: QUEUE.dossierEvents, action: 'add' },
  'dossier.status-resend': { queue: QUEUE.dossierEvents, action: 'add' },
  'timer.scheduled': { queue: QUEUE.timers, action: 'add' },
  'timer.cancelled': { queue: QUEUE.timers, action: 'remove' },
  'deadline.scheduled': { queue: QUEUE.timers, action: 'add' },
  'deadline.cancelled': { queue: QUEUE.timers, action: 'remove' },
  'handoff.dispatch': { queue: QUEUE.handoffs, action: 'add' },
  'citizen-notification.send': { queue: QUEUE.citizenNotifications, action: 'add' },
  'peer.callback': { queue: QUEUE.peerCallbacks, action: 'add' },
}

export function redisConnection(url: string): ConnectionOptions {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  }
}

export function createQueues(connection: ConnectionOptions, prefix: string) {
  const make = (name: QueueName) =>
    new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: {
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
        attempts: 10,
        backoff: { type: 'exponential', delay: 1000 },
      },
    })
  const queues = Object.fromEntries(Object.values(QUEUE).map((name) => [name, make(name)])) as Record<QueueName, Queue>
  return {
    get: (name: QueueName) => queues[name],
    all: () => Object.values(queues),
    close: () => Promise.all(Object.values(queues).map((q) => q.close())).then(() => undefined),
  }
}
export type Queues = ReturnType<typeof createQueues>
