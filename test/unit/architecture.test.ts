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

// What counts as allowed is lib/decision/rule.ts; its conditions on the
// tables are spelled by lib/store/rule-sql.ts alone, so that a new way a
// grant can count reaches every form at once.
const RULE_SQL = 'store/rule-sql.ts'
const RULE_CONDITIONS: ReadonlyArray<[string, RegExp]> = [
  ['a grantee condition', /principal_kind\s*=\s*'/],
  ['a liveness condition', /\b(expires_at|starts_at)\b\s*(<=|>=|<|>|is\s+(not\s+)?null)/i],
  ['a liveness condition (Kysely)', /'(expires_at|starts_at)',\s*'(<=|>=|<|>|is|is not)'/],
  ['a type-level condition', /resource_id\s+is\s+null/i]
]

t.test('the rule\'s conditions are written only in its SQL generator', async (t) => {
  const spelled: string[] = []
  for (const [file, { text }] of graph) {
    if (relative(LIB, file) === RULE_SQL) continue
    for (const [what, pattern] of RULE_CONDITIONS) if (pattern.test(text)) spelled.push(`${relative(LIB, file)} spells ${what}`)
  }
  t.same(spelled, [], `generate them from the rule in ${RULE_SQL}`)
  const generator = graph.get(join(LIB, RULE_SQL))
  t.ok(generator?.imports.includes('../decision/rule.js'), `${RULE_SQL} generates from lib/decision/rule.ts`)
})

// The superuser is decided once: the decisions and the check's path ask the
// rule (`overrides`) instead of reading the flag; only the code that builds a
// principal (decision/principal.ts, http/principal.ts) sets it.
const DECIDES = /^(decision\/|store\/(check|reader|rule-sql|rule-conditions|predicates|replicas|writer)\.ts|cache\/|service\/|http\/(?!principal\.ts))/

t.test('only the rule reads the superuser flag on the decision\'s path', async (t) => {
  const readers = [...graph].map(([file, { text }]) => [relative(LIB, file), text] as const)
    .filter(([name, text]) => DECIDES.test(name) && name !== 'decision/rule.ts' && name !== 'decision/principal.ts' && /\.superuser\b/.test(text))
    .map(([name]) => name)
  t.same(readers, [], 'ask overrides() in decision/rule.ts')
})

// The route hook and app.permissions reach the grants through the one
// authorizer, never a reader of their own.
t.test('the route hook and the service queries decide through the authorizer', async (t) => {
  for (const name of ['http/enforcer.ts', 'service/queries.ts']) {
    const entry = graph.get(join(LIB, name))
    t.ok(entry?.imports.some((spec) => spec.endsWith('/authorizer.js')), `${name} uses the authorizer`)
    for (const spec of entry?.imports ?? []) {
      t.notOk(/\/(check|reads|cached-check)\.js$/.test(spec), `${name} imports ${spec}`)
    }
  }
})
