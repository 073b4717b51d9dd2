// Behaviours 37, 41-44: group shapes, block/open, and the default ARDI file.
import t from 'tap'
import { compileRules, evaluateRules } from '../../lib/rules/index.js'
import { defaultRulesSource, facts, single } from '../fixtures/rules/helpers.js'

const local = { type: 'whitelist', list: ['127.0.0.1'] }
const isAdmin = { type: 'isuser', list: ['admin'] }

t.test('block always fails, open always passes (behaviour 44)', async t => {
  const block = single({ type: 'block' })
  t.match(block({ user: 'admin', level: 'superuser', ip: '127.0.0.1', secure: true }), { allow: false, reason: 'rule', ruleType: 'block' })
  const open = single({ type: 'open' })
  t.match(open({ user: null, level: null }), { allow: true, matched: ['x/'] })
})

t.test('a single rule object must pass (behaviour 41)', async t => {
  const run = single(isAdmin)
  t.equal(run({ user: 'admin' }).allow, true)
  t.equal(run({ user: 'bob' }).allow, false)
})

t.test('a flat array is an AND (behaviour 42)', async t => {
  const run = single([isAdmin, local])
  t.equal(run({ user: 'admin', ip: '127.0.0.1' }).allow, true)
  t.match(run({ user: 'admin', ip: '10.0.0.1' }), { allow: false, ruleType: 'whitelist' })
  t.match(run({ user: 'bob', ip: '127.0.0.1' }), { allow: false, ruleType: 'isuser' })
  t.match(run({ user: 'bob', ip: '10.0.0.1' }), { allow: false, ruleType: 'isuser' }, 'first failing rule is reported')
})

t.test('an array of arrays is an OR of ANDs (behaviour 43)', async t => {
  const run = single([[isAdmin], [local]])
  t.equal(run({ user: 'admin', ip: '10.0.0.1' }).allow, true)
  t.equal(run({ user: 'bob', ip: '127.0.0.1' }).allow, true)
  t.equal(run({ user: 'admin', ip: '127.0.0.1' }).allow, true)
  t.match(run({ user: 'bob', ip: '10.0.0.1' }), { allow: false, ruleType: 'whitelist' }, 'first failing rule of the last alternative')

  const andOr = single([[local], [{ type: 'whitelist', list: ['192.168.0.55'] }, { type: 'token', header: 'X-Access-Token', value: '1234' }]])
  t.equal(andOr({ ip: '127.0.0.1' }).allow, true)
  t.equal(andOr({ ip: '192.168.0.55', secure: true, headers: { 'x-access-token': '1234' } }).allow, true)
  t.match(andOr({ ip: '192.168.0.55', secure: true }), { allow: false, ruleType: 'token' })
  t.equal(andOr({ ip: '10.0.0.1', secure: true, headers: { 'x-access-token': '1234' } }).allow, false)
})

t.test('every matched path must pass (behaviour 37)', async t => {
  const compiled = compileRules({
    paths: { 'admin/': 'adminOnly', 'admin/properties/list': 'localOnly' },
    groups: { adminOnly: { type: 'userlevel', level: 'admin' }, localOnly: local }
  }, {})
  const run = (o: Parameters<typeof facts>[0]) => evaluateRules(compiled, facts({ url: '/admin/properties/list', ...o }))
  t.match(run({ level: 'admin', ip: '127.0.0.1' }), { allow: true, matched: ['admin/properties/list', 'admin/'] })
  t.match(run({ level: 'admin', ip: '10.0.0.1' }), { allow: false, pathKey: 'admin/properties/list', group: 'localOnly' })
  t.match(run({ level: 'reader', ip: '127.0.0.1' }), { allow: false, pathKey: 'admin/', group: 'adminOnly', ruleType: 'userlevel' })
})

t.test('no matching key: this layer has no objection (D1)', async t => {
  const compiled = compileRules(defaultRulesSource(), {})
  t.same(evaluateRules(compiled, facts({ url: '/public/page' })), { allow: true, matched: [], elevate: null, demote: null, terminalKey: null })
  t.same(evaluateRules(compiled, facts({ url: '/' })), { allow: true, matched: [], elevate: null, demote: null, terminalKey: null })
})

t.test('the default ARDI file', async t => {
  const compiled = compileRules(defaultRulesSource(), {})
  const run = (url: string, o: Parameters<typeof facts>[0] = {}) => evaluateRules(compiled, facts({ url, ...o }))

  t.test('api/drivers is local only', async t => {
    t.equal(run('/api/drivers', { ip: '127.0.0.1' }).allow, true)
    t.equal(run('/api/drivers', { ip: '::1' }).allow, true)
    t.match(run('/api/drivers', { ip: '192.168.0.10' }), { allow: false, pathKey: 'api/drivers', group: 'local' })
    t.equal(run('/api/drivers/x', { ip: '192.168.0.10' }).allow, true, 'exact key only')
  })

  t.test('admin/ needs admin level', async t => {
    t.equal(run('/admin/users', { level: 'admin' }).allow, true)
    t.equal(run('/admin', { level: 'creator' }).allow, false)
  })

  t.test('purge needs admin level AND user admin AND local', async t => {
    t.match(run('/admin/sites/purge', { user: 'admin', level: 'superuser', ip: '127.0.0.1' }), { allow: true, matched: ['admin/sites/purge', 'admin/'] })
    t.match(run('/admin/sites/purge', { user: 'admin', level: 'superuser', ip: '10.0.0.1' }), { allow: false, pathKey: 'admin/sites/purge', group: 'localadmin', ruleType: 'whitelist' })
    t.match(run('/admin/sites/purge', { user: 'root', level: 'superuser', ip: '127.0.0.1' }), { allow: false, group: 'localadmin', ruleType: 'isuser' })
    t.match(run('/admin/sites/purge', { user: 'admin', level: 'reader', ip: '127.0.0.1' }), { allow: false, pathKey: 'admin/', group: 'admin' })
  })

  t.test('restore/ needs admin level AND (user admin OR local)', async t => {
    t.equal(run('/admin/restore/run', { user: 'admin', level: 'superuser', ip: '10.0.0.1' }).allow, true)
    t.equal(run('/admin/restore/run', { user: 'other', level: 'admin', ip: '127.0.0.1' }).allow, true)
    t.match(run('/admin/restore/run', { user: 'other', level: 'admin', ip: '10.0.0.1' }), { allow: false, pathKey: 'admin/restore/', group: 'restricted' })
    t.match(run('/admin/restore', { user: 'other', level: 'admin', ip: '10.0.0.1' }), { allow: false, pathKey: 'admin/restore/' })
  })
})
