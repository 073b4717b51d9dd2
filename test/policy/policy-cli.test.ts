// `fastify-default-deny test`: fixtures that hold pass (exit 0), fixtures
// that must fail do (exit 6), each failure printed with explain's account,
// and the TAP and JUnit reports say the same in their own formats.
import { join } from 'node:path'
import t from 'tap'
import '../helper.js'
import { ROOT, runCli } from '../cli-helper.js'

t.setTimeout(360_000)

const FIXTURES = join(ROOT, 'test', 'policy', 'fixtures')
const env = { ...process.env, DATABASE_URL: '', PGLITE_DIR: join(ROOT, '.data', `never-${process.pid}`) }
const run = async (...args: string[]) => await runCli(['test', ...args], env)

t.test('fixtures that hold: exit 0, every assertion listed as ok', async (t) => {
  const out = await run(join(FIXTURES, 'documents.yaml'))
  t.equal(out.code, 0, out.stderr)
  t.match(out.stdout, /^ {2}ok 1 allow user:bob read on document\/welcome$/m)
  t.match(out.stdout, /^ {2}ok 3 carol's grant expired on January 10th$/m, "an assertion's description is its title")
  t.notMatch(out.stdout, /FAIL/)
  t.match(out.stdout, /^12 assertions passed, 0 failed \(1 fixture\)$/m)
  t.equal(out.stderr, '', 'no database is opened or named')
})

t.test('fixtures that must fail: exit 6, each failure with the explain that shows why', async (t) => {
  const out = await run(join(FIXTURES, 'wrong.yaml'))
  t.equal(out.code, 6, out.stderr)
  t.match(out.stdout, /FAIL 1 deny user:bob read on document\/welcome\n {7}expected deny, the plugin decided allow\n {7}explain user:bob on document\/welcome for read: allowed: group staff holds read\n {9}read: group:staff/)
  t.match(out.stdout, /FAIL 2 allow user:bob edit on document\/welcome\n {7}expected allow, the plugin decided deny\n {7}explain user:bob on document\/welcome for edit: denied: group staff holds read; the request needs edit/)
  t.match(out.stdout, /FAIL 3 .*\n {7}expected \[secret, welcome\], listIds returned \[welcome\]; missing \[secret\]\n {7}explain user:bob on document\/secret for read: denied: nothing is granted/)
  t.match(out.stdout, /FAIL 4 .*\n {7}expected the filter to keep \[secret\], it kept \[welcome\]/)
  t.match(out.stdout, /FAIL 5 explain user:bob on document\/welcome names owner\n {7}explain gives no such reason/)
  t.match(out.stdout, /FAIL 6 user:alice grants read .*\n {7}expected FST_DEFAULT_DENY_FORBIDDEN, the change was made \(201\)\n {7}explain user:alice on document\/welcome for manage: allowed: owns the resource/)
  t.match(out.stdout, /^0 assertions passed, 6 failed \(1 fixture\)$/m)
})

t.test('--reporter tap: a test point per assertion, failures with explain in YAML', async (t) => {
  const out = await run(join(FIXTURES, 'documents.yaml'), join(FIXTURES, 'wrong.yaml'), '--reporter', 'tap')
  t.equal(out.code, 6)
  const lines = out.stdout.split('\n')
  t.equal(lines[0], 'TAP version 14')
  t.equal(lines[1], '1..18')
  const points = lines.filter((line) => /^(?:not )?ok \d+ - /.test(line))
  t.equal(points.length, 18)
  t.equal(points.filter((line) => line.startsWith('not ok')).length, 6)
  t.same(points.map((line) => Number(/\d+/.exec(line)?.[0])), Array.from({ length: 18 }, (_, i) => i + 1), 'numbered in order')
  const first = lines.indexOf(points.find((line) => line.startsWith('not ok')) as string)
  t.same(lines.slice(first + 1, first + 6), [
    '  ---',
    '  message: "expected deny, the plugin decided allow"',
    '  explain:',
    '    - "explain user:bob on document/welcome for read: allowed: group staff holds read"',
    '    - "  read: group:staff"'
  ])
})

t.test('--reporter junit: a suite per file, a case per assertion, failures with explain', async (t) => {
  const out = await run(join(FIXTURES, 'documents.yaml'), join(FIXTURES, 'wrong.yaml'), '--reporter', 'junit')
  t.equal(out.code, 6)
  t.match(out.stdout, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="fastify-default-deny policy tests" tests="18" failures="6">/)
  const suites = [...out.stdout.matchAll(/<testsuite name="([^"]+)" tests="(\d+)" failures="(\d+)"/g)].map((m) => [m[1]?.replace(/^.*\//, ''), Number(m[2]), Number(m[3])])
  t.same(suites, [['documents.yaml', 12, 0], ['wrong.yaml', 6, 6]])
  t.equal([...out.stdout.matchAll(/<testcase /g)].length, 18)
  t.match(out.stdout, /<failure message="expected deny, the plugin decided allow">expected deny, the plugin decided allow\nexplain user:bob on document\/welcome for read: allowed: group staff holds read\n {2}read: group:staff<\/failure>/)
  t.match(out.stdout, /carol&apos;s grant expired/, 'text is escaped')
})

t.test('globs, --json, and what is a usage error', async (t) => {
  const json = await run(join(FIXTURES, '{wrong,documents}.yaml'), '--json')
  t.equal(json.code, 6)
  t.match(json.json, { ok: false, passed: 12, failed: 6, invalid: 0, coverage: null })
  t.same(json.json.fixtures.map((f: { file: string }) => f.file.replace(/^.*\//, '')), ['documents.yaml', 'wrong.yaml'], 'a glob expands in order')
  const none = await run(join(FIXTURES, 'nothing-*.yaml'))
  t.equal(none.code, 2)
  t.match(none.stderr, /no fixture file matches .*nothing-\*\.yaml/)
  const reporter = await run(join(FIXTURES, 'documents.yaml'), '--reporter', 'xml')
  t.equal(reporter.code, 2)
  t.match(reporter.stderr, /--reporter 'xml': expected text, tap, junit/)
  const missing = await run(join(FIXTURES, 'missing.yaml'))
  t.equal(missing.code, 2, 'a file that is not there is an invalid fixture')
  t.match(missing.stdout, /invalid: .*missing\.yaml: \(the document\): cannot be read \(ENOENT\)/)
})
