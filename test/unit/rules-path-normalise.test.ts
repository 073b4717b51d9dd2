// Behaviours 35 and 36 (D2): request paths and keys normalise the same way,
// and path tricks cannot avoid a folder rule.
import fc from 'fast-check'
import t from 'tap'
import { compileRules, evaluateRules, normalizeRequestPath } from '../../lib/rules/index.js'
import { facts } from '../fixtures/rules/helpers.js'

t.test('origin-form and absolute-form targets', async t => {
  const cases: Array<[string, string | null]> = [
    ['/', ''],
    ['/admin', 'admin'],
    ['/admin/', 'admin'],
    ['/admin/sites/purge?x=1&y=/../z', 'admin/sites/purge'],
    ['/admin/sites/purge#frag', 'admin/sites/purge'],
    ['/admin?', 'admin'],
    ['/?a=b', ''],
    ['http://evil/admin/users', 'admin/users'],
    ['HTTPS://evil:8443/admin/users?q=1', 'admin/users'],
    ['http://evil', ''],
    ['http://evil?x=/admin', ''],
    ['http://evil/admin#x', null],
    ['http:///admin', null],
    ['ftp://evil/admin', null],
    ['*', null],
    ['evil:443', null],
    ['admin', null],
    ['', null]
  ]
  for (const [raw, expected] of cases) t.equal(normalizeRequestPath(raw, true), expected, raw)
})

t.test('percent-decoding happens once; invalid encodings are refused', async t => {
  t.equal(normalizeRequestPath('/%61dmin/x', true), 'admin/x')
  t.equal(normalizeRequestPath('/caf%C3%A9', true), 'café')
  t.equal(normalizeRequestPath('/a%252e%252e/b', true), 'a%2e%2e/b', 'double-encoded stays encoded once')
  t.equal(normalizeRequestPath('/a%3Fb', true), 'a?b')
  t.equal(normalizeRequestPath('/a%zz', true), null)
  t.equal(normalizeRequestPath('/a%', true), null)
  t.equal(normalizeRequestPath('/a%C0%AF', true), null, 'overlong UTF-8')
})

t.test('ambiguous shapes are refused rather than rewritten', async t => {
  for (const raw of [
    '/admin//x', '//admin', '//', '/admin/x//',
    '/public/../admin/x', '/admin/./x', '/./admin', '/..', '/admin/..',
    '/public/%2e%2e/admin/x', '/public/%2E%2E/admin', '/admin/%2e/x',
    '/admin%2Fx', '/admin%2fx', '/public/..%2Fadmin',
    '/admin\\x', '/admin%5Cx', '/admin%5cx',
    '/admin%00', '/admin%0d%0ax', '/admin\u0000', '/admin%7f'
  ]) {
    t.equal(normalizeRequestPath(raw, true), null, raw)
  }
  // Query strings may contain anything.
  t.equal(normalizeRequestPath('/admin?next=/../%2F\\x', true), 'admin')
})

t.test('case folding follows the router', async t => {
  t.equal(normalizeRequestPath('/ADMIN/X', true), 'ADMIN/X')
  t.equal(normalizeRequestPath('/ADMIN/X', false), 'admin/x')
  t.equal(normalizeRequestPath('/%41DMIN', false), 'admin')
})

t.test('folder keys and exact keys (behaviour 35)', async t => {
  const compiled = compileRules({
    paths: { 'admin/': 'deny', 'admin/sites/purge': 'deny2', '/lone': 'deny3' },
    groups: { deny: { type: 'block' }, deny2: { type: 'block' }, deny3: { type: 'block' } }
  }, {})
  const keysFor = (url: string): string | null => {
    const outcome = evaluateRules(compiled, facts({ url }))
    return outcome.allow ? null : outcome.reason === 'rule' ? outcome.pathKey : outcome.reason
  }
  t.equal(keysFor('/admin'), 'admin/', 'bare folder')
  t.equal(keysFor('/admin/'), 'admin/')
  t.equal(keysFor('/admin/a/b/c'), 'admin/')
  t.equal(keysFor('/administrator'), null, 'a folder key is a whole segment, not a prefix')
  t.equal(keysFor('/admin/sites/purge'), 'admin/sites/purge', 'exact key evaluated first')
  t.equal(keysFor('/admin/sites/purge?really=yes'), 'admin/sites/purge', 'query ignored')
  t.equal(keysFor('/lone'), '/lone', 'leading slash on a key is stripped')
  t.equal(keysFor('/lone/'), '/lone')
  t.equal(keysFor('/lone/child'), null, 'an exact key does not cover children')
  t.equal(keysFor('/lonely'), null)
})

t.test('the root folder key covers everything', async t => {
  const compiled = compileRules({ paths: { '/': 'g' }, groups: { g: { type: 'block' } } }, {})
  for (const url of ['/', '/a', '/a/b']) {
    t.match(evaluateRules(compiled, facts({ url })), { allow: false, reason: 'rule', pathKey: '/' }, url)
  }
})

t.test('tricks cannot avoid the admin/ rule (behaviour 36)', async t => {
  const source = { paths: { 'admin/': 'admin' }, groups: { admin: { type: 'userlevel', level: 'admin' } } }
  const sensitive = compileRules(source, { caseSensitive: true })
  const insensitive = compileRules(source, { caseSensitive: false })
  const run = (url: string, caseSensitive: boolean) => evaluateRules(caseSensitive ? sensitive : insensitive, {
    ...facts(), path: normalizeRequestPath(url, caseSensitive)
  })
  for (const url of ['/admin//x', '/public/../admin/x', '/%61dmin/x', 'http://evil/admin/x', '/admin\\x', '/public/%2e%2e/admin/x']) {
    t.equal(run(url, true).allow, false, url)
  }
  t.equal(run('/ADMIN/x', false).allow, false, 'case-insensitive router')
  t.match(run('/ADMIN/x', false), { reason: 'rule', pathKey: 'admin/' })
  // With a case-sensitive router /ADMIN/x is a different route.
  t.equal(run('/ADMIN/x', true).allow, true)
  t.equal(run('/admin/x', true).allow, false)
  t.equal(evaluateRules(sensitive, { ...facts(), path: normalizeRequestPath('/admin/x', true), level: 'admin' }).allow, true)
})

t.test('case-insensitive keys are folded at load', async t => {
  const compiled = compileRules({ paths: { 'Admin/': 'g' }, groups: { g: { type: 'block' } } }, { caseSensitive: false })
  t.equal(evaluateRules(compiled, { ...facts(), path: normalizeRequestPath('/aDmIn/x', false) }).allow, false)
  const strict = compileRules({ paths: { 'Admin/': 'g' }, groups: { g: { type: 'block' } } }, { caseSensitive: true })
  t.equal(evaluateRules(strict, facts({ url: '/admin/x' })).allow, true)
  t.equal(evaluateRules(strict, facts({ url: '/Admin/x' })).allow, false)
})

const segment = fc.oneof(
  fc.constantFrom('.', '..', '', '%2e', '%2E%2e', '%2F', '%5c', '\\', 'admin', 'a', '%61dmin', 'x%20y', '%', '%zz', '%00'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 6 })
)
const rawPath = fc.array(segment, { maxLength: 8 }).map(parts => '/' + parts.join('/'))

t.test('property: output never contains dot segments, empty segments or backslashes', async t => {
  fc.assert(fc.property(rawPath, fc.boolean(), (raw, caseSensitive) => {
    const path = normalizeRequestPath(raw, caseSensitive)
    if (path === null) return true
    const segments = path === '' ? [] : path.split('/')
    return !path.startsWith('/') && !path.endsWith('/') && !path.includes('//') && !path.includes('\\') &&
      segments.every(s => s !== '' && s !== '.' && s !== '..')
  }), { numRuns: 5000 })
  t.pass('held for 5000 generated paths')
})

t.test('property: normalising is idempotent on its own output', async t => {
  fc.assert(fc.property(rawPath, raw => {
    const path = normalizeRequestPath(raw, true)
    // Re-encoding `%` keeps literal percent signs from being decoded twice.
    return path === null || normalizeRequestPath('/' + path.replaceAll('%', '%25'), true) === path
  }), { numRuns: 3000 })
  t.pass('idempotent')
})

t.test('property: anything under a folder key is denied by it, whatever the disguise', async t => {
  const compiled = compileRules({ paths: { 'admin/': 'g' }, groups: { g: { type: 'block' } } }, { caseSensitive: false })
  const disguise = fc.constantFrom((s: string) => s, (s: string) => s.toUpperCase(), (s: string) => encodeURIComponent(s),
    (s: string) => s.replace(/a/g, '%61'), (s: string) => s.replace(/a/g, '%41'))
  const noise = fc.constantFrom('', '/', './', '../admin/', 'x/../', 'x/%2e%2e/', '\\', '%2F', '%2e/')
  const tail = fc.array(fc.constantFrom('x', 'y', 'users', '%7E', 'a b'), { maxLength: 3 })
  fc.assert(fc.property(disguise, noise, tail, fc.constantFrom('', '?q=1', '#f'), (hide, junk, rest, suffix) => {
    const raw = '/' + hide('admin') + '/' + junk + rest.join('/') + suffix
    const outcome = evaluateRules(compiled, { ...facts(), path: normalizeRequestPath(raw, false) })
    return outcome.allow === false
  }), { numRuns: 3000 })
  t.pass('never allowed')
})
