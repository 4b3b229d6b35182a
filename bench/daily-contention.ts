/**
 * Do concurrent submissions serialize on the daily counts (supervision_daily)? 8 connections each commit
 * transactions shaped like a submission (a dossier row, whose trigger adds it to its day's counts, and
 * four history rows, sent with BEGIN and COMMIT in one message as the unit of work sends them): once all
 * to one agency and procedure (one key), once to 8 agencies (8 keys), and once to one agency with the
 * trigger off. The added rows are deleted afterwards (the trigger takes them off the counts again).
 */
import os from 'node:os'
import pg from 'pg'

export interface ContentionFigures {
  label: string
  perSecond: number
  p50: number
  p95: number
}

export async function dailyContentionBench(
  url: string,
  transactions = 400,
  connections = 8,
): Promise<{ runs: ContentionFigures[]; load: number }> {
  const admin = new pg.Client(url)
  await admin.connect()
  try {
    const like = (await admin.query(`SELECT * FROM dossiers WHERE finished_at IS NULL ORDER BY id LIMIT 1`)).rows[0]
    const agencies = (await admin.query(`SELECT DISTINCT agency FROM dossiers ORDER BY agency LIMIT ${connections}`)).rows.map(
      (r) => r.agency as string,
    )
    let seq = 0
    const run = async (label: string, agencyOf: (c: number) => string): Promise<ContentionFigures> => {
      const clients = await Promise.all(
        Array.from({ length: connections }, async () => {
          const c = new pg.Client(url)
          await c.connect()
          return c
        }),
      )
      const times: number[] = []
      let next = 0
      const t0 = performance.now()
      await Promise.all(
        clients.map(async (client, c) => {
          for (;;) {
            if (next++ >= transactions) return
            const n = ++seq
            const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
            const sql = `BEGIN;
              INSERT INTO dossiers (id, code, unit_id, procedure_code, procedure_version_id, agency, status, national_status, channel, applicant, data,
                     submitted_by, submitted_at, appointment_at)
                VALUES ('${id}', 'BENCH-HOT-${n}', '${like.unit_id}', '${like.procedure_code}', ${like.procedure_version_id}, '${agencyOf(c)}',
                        'RECEIVED', 2, 2, '{"name":"bench"}', '{}', 'bench', now(), now() + interval '5 days');
              INSERT INTO history (dossier_id, action, actor, status, details, at)
                SELECT '${id}', 'dossier.submitted', 'bench', 'RECEIVED', '{}', now() FROM generate_series(1, 4);
              COMMIT;`
            const t = performance.now()
            await client.query(sql)
            times.push(performance.now() - t)
          }
        }),
      )
      const seconds = (performance.now() - t0) / 1000
      await Promise.all(clients.map((c) => c.end()))
      const s = times.sort((a, b) => a - b)
      const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10
      return { label, perSecond: Math.round(transactions / seconds), p50: at(0.5), p95: at(0.95) }
    }
    const runs: ContentionFigures[] = []
    try {
      runs.push(await run('one agency and procedure (one key)', () => agencies[0]!))
      runs.push(await run(`${connections} agencies (${connections} keys)`, (c) => agencies[c % agencies.length]!))
      await admin.query('ALTER TABLE dossiers DISABLE TRIGGER supervision_daily_insert_delete')
      try {
        runs.push(await run('one agency, trigger off', () => agencies[0]!))
      } finally {
        await admin.query('ALTER TABLE dossiers ENABLE TRIGGER supervision_daily_insert_delete')
      }
    } finally {
      await admin.query(`DELETE FROM history WHERE dossier_id IN (SELECT id FROM dossiers WHERE code LIKE 'BENCH-HOT-%')`)
      await admin.query(`DELETE FROM dossiers WHERE code LIKE 'BENCH-HOT-%'`)
    }
    return { runs, load: Math.round(os.loadavg()[0]! * 10) / 10 }
  } finally {
    await admin.end()
  }
}
