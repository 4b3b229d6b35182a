/**
 * Folder-level import graph of `src/`: prints each edge `from → to (n imports)` and fails (exit 1)
 * when folders import each other in a cycle. A file directly in `src/` (main.ts, config.ts, errors.ts…)
 * is a node of its own, named after the file.
 * Type-only imports count too: a cycle of types is still a cycle for whoever reads the code.
 *
 *   npx tsx scripts/import-graph.ts [--quiet]
 */
import fs from 'node:fs'
import path from 'node:path'

const SRC = path.resolve(import.meta.dirname, '../src')
const quiet = process.argv.includes('--quiet')

function* sourceFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) yield* sourceFiles(p)
    else if (/\.(ts|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p
  }
}

const folderOf = (file: string) => {
  const rel = path.relative(SRC, file).split(path.sep)
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.m?ts$/, '.ts')
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

/** edges.get(from).get(to) = the importing files, for the message. */
const edges = new Map<string, Map<string, string[]>>()
for (const file of sourceFiles(SRC)) {
  const text = fs.readFileSync(file, 'utf8')
  for (const m of text.matchAll(IMPORT)) {
    const target = path.resolve(path.dirname(file), m[1] ?? m[2]!)
    if (!target.startsWith(SRC + path.sep)) continue
    const [from, to] = [folderOf(file), folderOf(target)]
    if (from === to) continue
    const out = edges.get(from) ?? new Map<string, string[]>()
    edges.set(from, out)
    out.set(to, [...(out.get(to) ?? []), path.relative(SRC, file)])
  }
}

// Tarjan's strongly connected components: a component of more than one folder is a cycle.
const index = new Map<string, number>()
const low = new Map<string, number>()
const stack: string[] = []
const onStack = new Set<string>()
const cycles: string[][] = []
let next = 0
function visit(v: string): void {
  index.set(v, next)
  low.set(v, next)
  next++
  stack.push(v)
  onStack.add(v)
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!index.has(w)) {
      visit(w)
      low.set(v, Math.min(low.get(v)!, low.get(w)!))
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
  }
  if (low.get(v) === index.get(v)) {
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1) cycles.push(component.sort())
  }
}
const folders = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])].sort()
for (const f of folders) if (!index.has(f)) visit(f)

if (!quiet) {
  for (const from of [...edges.keys()].sort()) {
    for (const [to, files] of [...edges.get(from)!].sort(([a], [b]) => a.localeCompare(b))) console.log(`${from} → ${to} (${files.length})`)
  }
}
if (cycles.length) {
  console.error(`\n${cycles.length} import cycle(s) between folders:`)
  for (const c of cycles) {
    console.error(`  ${c.join(' ⇄ ')}`)
    for (const from of c)
      for (const to of c) {
        const files = edges.get(from)?.get(to)
        if (files) console.error(`    ${from} → ${to}: ${[...new Set(files)].join(', ')}`)
      }
  }
  process.exit(1)
}
console.log(`${folders.length} folders, no import cycle`)
