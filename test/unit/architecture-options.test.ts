// Each feature owns its options: option parsing lives in lib/options/ alone,
// the whole resolved object reaches only the plugin's wiring, the layers
// below service/ take plain values (never an option module), and every slice
// is frozen with the policy held once.
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { resolveOptions } from '../../lib/options/index.js'

const LIB = fileURLToPath(new URL('../../lib/', import.meta.url))
const OPTIONS = join(LIB, 'options')
const BELOW_SERVICE = ['store', 'decision', 'cache', 'rules']

// Static imports and re-exports, type-only ones included.
const importPattern = /^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm
const graph = new Map<string, { text: string, imports: string[] }>()
for (const name of await readdir(LIB, { recursive: true })) {
  if (!name.endsWith('.ts')) continue
  const text = await readFile(join(LIB, name), 'utf8')
  graph.set(join(LIB, name), { text, imports: [...text.matchAll(importPattern)].map((m) => m[1] as string) })
}
const target = (file: string, spec: string) => resolve(dirname(file), spec).replace(/\.js$/, '.ts')

t.test('lib/store, lib/decision, lib/cache and lib/rules import nothing from lib/options/', async (t) => {
  for (const [file, { imports }] of graph) {
    const where = relative(LIB, file)
    if (!BELOW_SERVICE.some((layer) => where.startsWith(layer + '/'))) continue
    for (const spec of imports) {
      if (spec.startsWith('.')) t.notOk(target(file, spec).startsWith(OPTIONS), `${where} imports ${spec}`)
    }
  }
})

t.test('only the wiring resolves the options or names the whole Settings', async (t) => {
  for (const [file, { text }] of graph) {
    const where = relative(LIB, file)
    if (where === 'index.ts' || where.startsWith('options/')) continue
    t.notOk(/\bresolveOptions\b/.test(text), `${where} resolves the options`)
    t.notOk(/\bimport[^;]*\bSettings\b[^;]*from\s+'[^']*options\//.test(text), `${where} imports the whole Settings`)
  }
})

t.test('option parsing lives in lib/options/ alone', async (t) => {
  for (const [file, { imports }] of graph) {
    const where = relative(LIB, file)
    t.notOk(!where.startsWith('options/') && /(^|[/-])option\.ts$/.test(where), `${where} parses an option outside lib/options/`)
    if (where === 'index.ts' || where.startsWith('options/')) continue
    for (const spec of imports) {
      if (spec.startsWith('.')) t.not(target(file, spec), join(OPTIONS, 'values.ts'), `${where} checks option values`)
    }
  }
})

t.test('each slice is frozen, and the policy is held once', async (t) => {
  // Every slice that may be off is turned on, so that none is null.
  const settings = resolveOptions({
    db: { selectFrom () {}, withSchema () {} },
    cache: true,
    stepUp: {},
    rules: { paths: {}, groups: {} },
    adminPage: {},
    replicas: { connectionStrings: ['postgres://standby/app'] },
    hierarchy: { types: { document: { parents: ['folder'] } } },
    tokenReuse: { trusted: false }
  })
  t.ok(Object.isFrozen(settings))
  for (const [name, slice] of Object.entries(settings)) {
    t.ok(slice !== null && Object.isFrozen(slice), `${name} is frozen`)
    if (name !== 'policy' && slice !== null) t.notOk('satisfiedBy' in (slice as object) || 'ownerPrivileges' in (slice as object), `${name} repeats the policy`)
  }
})
