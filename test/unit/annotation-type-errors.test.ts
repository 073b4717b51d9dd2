// What the compiler tells a developer who mistypes a route annotation: the
// message must name the privilege, not a puzzle about 'public' & {…}. The
// snippets are compiled in memory beside the repository, so they resolve the
// same `fastify` and `fastify-plugin.d.ts` as a host's code would.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ['node']
}

const SNIPPETS: Record<string, string> = {
  valid: [
    "app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'x')",
    "app.get('/t', { config: { permission: { resource: 'document', privilege: 'edit', id: false } } }, async () => 'x')",
    "app.route({ method: 'GET', url: '/p/:doc', config: { permission: { resource: 'document', privilege: 'manage', param: 'doc' } }, handler: async () => 'x' })",
    "app.get('/health', { config: { permission: 'public' } }, async () => 'ok')",
    "app.get('/me', { config: { permission: 'authenticated' } }, async () => 'me')"
  ].join('\n'),
  shorthandTypo: "app.get('/w/:id', { config: { permission: { resource: 'document', privilege: 'wirte' } } }, async () => 'x')",
  routeTypo: "app.route({ method: 'GET', url: '/w/:id', config: { permission: { resource: 'document', privilege: 'wirte' } }, handler: async () => 'x' })",
  noResource: "app.get('/y/:id', { config: { permission: { privilege: 'read' } } }, async () => 'x')",
  keyword: "app.get('/x', { config: { permission: 'private' } }, async () => 'x')"
}

// One program for every snippet (each its own module) keeps the compiler's
// start-up paid once; diagnostics are sorted back to their snippet.
const files = new Map(Object.entries(SNIPPETS).map(([name, routes]) => [
  `${ROOT}test/annotation-snippet-${name}.ts`,
  `import Fastify from 'fastify'\nimport '../fastify-plugin.js'\nconst app = Fastify()\n${routes}\n`
]))
const host = ts.createCompilerHost(OPTIONS)
const read = host.getSourceFile.bind(host)
host.getSourceFile = (name, version, onError, create) => {
  const text = files.get(name)
  return text === undefined ? read(name, version, onError, create) : ts.createSourceFile(name, text, version)
}
const fileExists = host.fileExists.bind(host)
host.fileExists = (name) => files.has(name) || fileExists(name)
const all = ts.getPreEmitDiagnostics(ts.createProgram([...files.keys()], OPTIONS, host))

function diagnostics (name: string): string[] {
  const file = `${ROOT}test/annotation-snippet-${name}.ts`
  return all.filter((d) => d.file?.fileName === file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
}

t.test('valid annotations compile', async (t) => {
  t.same(diagnostics('valid'), [])
  t.ok(all.length > 0, 'the snippets were compiled')
})

t.test('a privilege typo is reported by name, in the shorthand and in app.route()', async (t) => {
  for (const route of ['shorthandTypo', 'routeTypo']) {
    const found = diagnostics(route)
    t.equal(found.length, 1, route)
    t.match(found[0], /^Type '"wirte"' is not assignable/, 'the message starts with the typo')
    t.match(found[0], /is not a privilege: list it in DefaultDenyPrivileges/, 'and says what to do')
    t.notMatch(found[0], /"public"|"authenticated"/, 'and says nothing of the keywords')
  }
})

t.test('a missing resource type is reported as such', async (t) => {
  const found = diagnostics('noResource')
  t.equal(found.length, 1)
  t.match(found[0], /Property 'resource' is missing/)
})

t.test('an unknown keyword does not compile', async (t) => {
  const found = diagnostics('keyword')
  t.equal(found.length, 1)
  t.match(found[0], /^Type '"private"' is not assignable/)
})
