import t from 'tap'
import fs from 'node:fs'
import type { ChildProcess } from 'node:child_process'
import { testContext, testUrls } from './helpers/context.ts'
import { caller } from './helpers/api.ts'
import { startMain } from './helpers/main-process.ts'
import { pollUntil } from './helpers/poll.ts'
import { slow } from './helpers/slow.ts'
import { startSmtp } from './helpers/smtp.ts'

const S3 = fs.readFileSync(new URL('../processes/s3-ho-kinh-doanh.bpmn', import.meta.url), 'utf8')

t.test(
  'kill -9 the worker after the SMTP server has the mail and before the commit: sent again with the same Message-ID, marked sent once',
  slow,
  async (t) => {
    let child: ChildProcess | null = null
    let kill = true
    // The first mail arrives in full; the worker is killed before it hears the server's answer and commits.
    const smtp = await startSmtp(t, {
      onMessage: async () => {
        if (!kill || !child) return
        kill = false
        const dying = child
        dying.kill('SIGKILL')
        await new Promise((r) => dying.once('exit', r))
      },
    })
    const ctx = await testContext(t)
    t.equal((await ctx.deploy(S3)).status, 201)
    const officer = await caller(ctx, { userId: 'mc-1', roles: ['officer'], groups: ['one-stop'], agency: 'UBND-XA-DEMO' })
    const sub = await officer.post('/api/dossiers', {
      procedureCode: '2.000575',
      applicant: { name: 'Nguyễn Văn A', idNumber: '001099001234', email: 'a@example.vn' },
      channel: 1,
      data: {},
    })
    const id = sub.body.dossier.id
    t.equal((await officer.act(id, 'accept', {})).status, 200)
    const row = () => ctx.db('citizen_notifications').where({ dossier_id: id }).first()

    const env = {
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: testUrls().redisUrl,
      RUN_API: 'false',
      QUEUE_PREFIX: ctx.config.queuePrefix,
      WORKER_LOCK_MS: '1000',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Một cửa <motcua@ubnd-xa.example.vn>',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
    }
    child = await startMain(env, 'workers started')
    t.teardown(() => void child?.kill('SIGKILL'))
    await pollUntil('the first copy at the SMTP server and the worker dead', async () => smtp.mails.length === 1 && !kill, {
      timeoutMs: 60_000,
    })
    t.match(await row(), { state: 'pending', attempts: 0, sent_at: null }, 'the killed worker committed nothing')

    child = await startMain(env, 'workers started')
    await pollUntil('the row marked sent', async () => (await row())?.state === 'sent', { timeoutMs: 60_000 })
    const sent = await row()
    t.equal(smtp.mails.length, 2, 'sent at most twice')
    t.equal(smtp.mails[0]!.messageId, `<cn-${sent.id}@ubnd-xa.example.vn>`)
    t.equal(smtp.mails[1]!.messageId, smtp.mails[0]!.messageId, 'the copy carries the same Message-ID: the receiver can tell')
    t.match(sent, { state: 'sent', attempts: 1, message_id: smtp.mails[0]!.messageId })
    child.kill('SIGTERM')
    await new Promise((r) => child!.once('exit', r))
  },
)
