import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '..')
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8')

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = []
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...files(rel, ext))
    else if (ext.test(e.name)) out.push(rel)
  }
  return out
}

const DOCS = ['README.md', ...files('docs', /\.md$/)]
const CODE = [...files('src', /\.(ts|json)$/), ...files('processes', /\.bpmn$/), ...files('migrations', /\.ts$/)]
// Documents other slices of the same change are writing; checked as soon as they exist.
const WRITTEN_ELSEWHERE = new Set(['docs/security.md', 'docs/deadlines.md', 'docs/limits.md', 'docs/operations.md', 'docs/lifecycle.md'])

/** Anchors a Markdown file offers: explicit `<a id>` and GitHub's slugs of its headings. */
function anchors(rel: string): Set<string> {
  const text = read(rel)
  const ids = new Set([...text.matchAll(/<a id="([^"]+)">/g)].map((m) => m[1]!))
  for (const m of text.matchAll(/^#+ (.+)$/gm))
    ids.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    )
  return ids
}

t.test('the README is a short entry: under 150 lines, and it links every document of docs/', async (t) => {
  const readme = read('README.md')
  t.ok(readme.split('\n').length < 150, `README has ${readme.split('\n').length} lines`)
  for (const doc of files('docs', /\.md$/)) t.ok(readme.includes(`](${doc})`), `README links ${doc}`)
})

t.test('nothing cites a rule or document outside the repository', async (t) => {
  for (const f of [...DOCS, ...CODE]) {
    const hits = read(f)
      .split('\n')
      .filter((l) => /domain-notes|\.\.\/shared\/|§ ?[0-9]|\bR[0-9]+\.[0-9]+\b/.test(l))
    t.same(hits, [], f)
  }
})

t.test('every citation of docs/ in the code and every link of the docs resolves inside the repository', async (t) => {
  const targets: Array<{ from: string; file: string; anchor: string | null }> = []
  for (const f of CODE) {
    for (const m of read(f).matchAll(/docs\/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?/g))
      targets.push({ from: f, file: `docs/${m[1]}`, anchor: m[2] ?? null })
  }
  for (const f of DOCS) {
    for (const m of read(f).matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1]!
      if (/^[a-z]+:/.test(link)) continue
      const [target, anchor] = link.split('#') as [string, string | undefined]
      const file = target === '' ? f : path.normalize(path.join(path.dirname(f), target))
      targets.push({ from: f, file, anchor: anchor ?? null })
    }
  }
  t.ok(
    targets.some((x) => x.file === 'docs/domain.md' && x.from.startsWith('src/')),
    'the code cites docs/domain.md',
  )
  for (const { from, file, anchor } of targets) {
    if (WRITTEN_ELSEWHERE.has(file) && !fs.existsSync(path.join(ROOT, file))) continue
    if (!fs.existsSync(path.join(ROOT, file))) {
      t.fail(`${from} → ${file}: no such file`)
      continue
    }
    if (anchor && file.endsWith('.md')) t.ok(anchors(file).has(anchor), `${from} → ${file}#${anchor}`)
  }
})

t.test('docs/api.md lists every error code under the status it answers', async (t) => {
  const { ERROR_STATUS } = await import('../src/errors.ts')
  const api = fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8')
  const rows = new Map<string, string>()
  for (const m of api.matchAll(/^\| (\d{3}) \| (.*) \|$/gm)) rows.set(m[1]!, m[2]!)
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    t.ok(rows.get(String(status))?.includes(`\`${code}\``), `${code} is listed under ${status}`)
  }
})
