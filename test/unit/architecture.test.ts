// The layers the README's "Where things live" describes, checked on the
// sources: the pure decision stays free of I/O, imports form no cycle, and
// no file grows past what one reader can hold.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url))
const MAX_LINES = 300

async function sources (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return await sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  }))
  return nested.flat()
}

// Static imports and re-exports, type-only ones included: a type cycle is a
// design cycle too.
function importsOf (text: string): string[] {
  return [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1] as string)
}

const files = await sources(LIB)
const graph = new Map<string, { text: string, imports: string[] }>()
for (const file of files) {
  const text = await readFile(file, 'utf8')
  graph.set(file, { text, imports: importsOf(text) })
}

t.test('decision/ imports nothing from Fastify, Kysely, pg or Node I/O', async (t) => {
  for (const [file, { imports }] of graph) {
    if (!relative(LIB, file).startsWith('decision')) continue
    for (const spec of imports) {
      const local = spec.startsWith('.')
      const inside = local && (resolve(dirname(file), spec).startsWith(join(LIB, 'decision')) || spec === '../../fastify-plugin.js')
      t.ok(inside, `${relative(LIB, file)} imports ${spec}`)
    }
  }
})

t.test('no import cycles in lib/', async (t) => {
  const local = (file: string, spec: string) => resolve(dirname(file), spec).replace(/\.js$/, '.ts')
  const state = new Map<string, 'visiting' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(LIB, f)).join(' → '))
      return
    }
    state.set(file, 'visiting')
    for (const spec of graph.get(file)?.imports ?? []) {
      const target = local(file, spec)
      if (spec.startsWith('.') && graph.has(target)) visit(target, [...path, file])
    }
    state.set(file, 'done')
  }
  for (const file of graph.keys()) visit(file, [])
  t.same(cycles, [], 'no module reaches itself through its imports')
})

t.test(`no file in lib/ is over ${MAX_LINES} lines`, async (t) => {
  for (const [file, { text }] of graph) {
    const lines = text.split('\n').length - 1
    t.ok(lines <= MAX_LINES, `${relative(LIB, file)}: ${lines} lines`)
  }
})
