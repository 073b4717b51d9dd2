// Behaviour 33 and D5/D6/D17: every malformed rules file fails at load.
import t, { type Test } from 'tap'
import { compileRules, RulesConfigError } from '../../lib/rules/index.js'
import { defaultRulesSource } from '../fixtures/rules/helpers.js'

const withGroup = (group: unknown): unknown => ({ paths: { 'x/': 'g' }, groups: { g: group } })

function rejects (tt: Test, source: unknown, pointer: string, message: RegExp, options = {}): void {
  let caught: unknown
  try {
    compileRules(source, options)
  } catch (error) {
    caught = error
  }
  tt.ok(caught instanceof RulesConfigError, 'throws RulesConfigError')
  tt.ok(caught instanceof Error, 'is an Error')
  tt.equal((caught as RulesConfigError).pointer, pointer, 'pointer')
  tt.match((caught as Error).message, message, 'message')
}

t.test('the default ARDI file compiles', async t => {
  const compiled = compileRules(defaultRulesSource(), {})
  t.equal(compiled.keys.length, 7)
})

t.test('RulesConfigError names the offending entry', async t => {
  const error = new RulesConfigError('groups.localadmin[1].type', 'unknown rule type "useraccess"')
  t.equal(error.name, 'RulesConfigError')
  t.equal(error.message, 'rules: groups.localadmin[1].type: unknown rule type "useraccess"')
})

t.test('the source as a whole', async t => {
  for (const source of [null, undefined, 'x', 42, [], [{ paths: {}, groups: {} }]]) {
    rejects(t, source, '', /must contain a JSON object/)
  }
  rejects(t, { groups: {} }, 'paths', /paths: must be an object/)
  rejects(t, { paths: [], groups: {} }, 'paths', /must be an object/)
  rejects(t, { paths: {} }, 'groups', /groups: must be an object/)
  rejects(t, { paths: {}, groups: 'g' }, 'groups', /must be an object/)
  rejects(t, { paths: {}, groups: {}, extra: 1 }, 'extra', /unknown top-level key "extra"/)
})

t.test('paths', async t => {
  rejects(t, { paths: { 'x/': 'nope' }, groups: {} }, 'paths.x/', /undefined group "nope"/)
  // Inherited properties are not groups.
  rejects(t, { paths: { 'x/': 'constructor' }, groups: {} }, 'paths.x/', /undefined group "constructor"/)
  rejects(t, { paths: { 'x/': 1 }, groups: { g: { type: 'open' } } }, 'paths.x/', /must name a group/)
  rejects(t, { paths: { '': 'g' }, groups: { g: { type: 'open' } } }, 'paths.', /empty path key/)
  for (const key of ['a//b', 'a/../b', './a', 'a/%2e%2e/b', 'a\\b', 'a%2Fb', 'a%zz', '//']) {
    rejects(t, { paths: { [key]: 'g' }, groups: { g: { type: 'open' } } }, `paths.${key}`, /invalid path key/)
  }
  rejects(t, { paths: { 'admin/': 'g', '/admin/': 'g' }, groups: { g: { type: 'open' } } }, 'paths./admin/', /same path as "admin\/"/)
  rejects(t, { paths: { 'Admin': 'g', 'admin': 'g' }, groups: { g: { type: 'open' } } }, 'paths.admin', /same path/, { caseSensitive: false })
  t.doesNotThrow(() => compileRules({ paths: { 'Admin': 'g', 'admin': 'g' }, groups: { g: { type: 'open' } } }, {}))
})

t.test('group shapes (D5)', async t => {
  rejects(t, withGroup([]), 'groups.g', /empty array/)
  rejects(t, withGroup([[]]), 'groups.g[0]', /empty array/)
  rejects(t, withGroup([[{ type: 'open' }], []]), 'groups.g[1]', /empty array/)
  rejects(t, withGroup([{ type: 'open' }, [{ type: 'open' }]]), 'groups.g[1]', /mixes rules and arrays/)
  rejects(t, withGroup([[{ type: 'open' }], { type: 'open' }]), 'groups.g[1]', /mixes rules and arrays/)
  rejects(t, withGroup([[[{ type: 'open' }]]]), 'groups.g[0][0]', /nest at most two deep/)
  rejects(t, withGroup('open'), 'groups.g', /a rule must be an object/)
  rejects(t, withGroup(null), 'groups.g', /a rule must be an object/)
  rejects(t, withGroup([null]), 'groups.g[0]', /a rule must be an object/)
  // Unused groups are validated too.
  rejects(t, { paths: {}, groups: { unused: { type: 'nope' } } }, 'groups.unused.type', /unknown rule type "nope"/)
})

t.test('rule types (D6)', async t => {
  const legacy = defaultRulesSource() as { groups: Record<string, unknown> }
  legacy.groups.localadmin = [{ type: 'isuser', list: ['admin'] }, { type: 'useraccess', level: 'admin' }]
  rejects(t, legacy, 'groups.localadmin[1].type', /^rules: groups\.localadmin\[1\]\.type: unknown rule type "useraccess"$/)
  rejects(t, withGroup({}), 'groups.g.type', /missing rule type/)
  rejects(t, withGroup({ type: 7 }), 'groups.g.type', /missing rule type/)
  rejects(t, withGroup({ type: 'toString' }), 'groups.g.type', /unknown rule type "toString"/)
  rejects(t, withGroup({ type: 'Open' }), 'groups.g.type', /unknown rule type "Open"/)
})

t.test('unknown properties and modifiers, per rule type', async t => {
  rejects(t, withGroup({ type: 'open', termnal: true }), 'groups.g.termnal', /unknown property "termnal" on a "open" rule/)
  rejects(t, withGroup({ type: 'block', list: ['a'] }), 'groups.g.list', /unknown property "list"/)
  rejects(t, withGroup({ type: 'userlevel', level: 'admin', list: ['a'] }), 'groups.g.list', /unknown property/)
  rejects(t, withGroup({ type: 'cert', header: 'x' }), 'groups.g.header', /unknown property/)
  rejects(t, withGroup({ type: 'whitelist', list: ['127.0.0.1'], header: 'x' }), 'groups.g.header', /unknown property/)
  rejects(t, withGroup({ type: 'token', header: 'x', value: 'v', level: 'admin' }), 'groups.g.level', /unknown property/)
  // D17: deny only on whitelist and isuser.
  for (const rule of [{ type: 'open' }, { type: 'block' }, { type: 'userlevel', level: 'admin' }, { type: 'token', header: 'x', value: 'v' }, { type: 'cert' }]) {
    rejects(t, withGroup({ ...rule, deny: true }), 'groups.g.deny', /only allowed on whitelist and isuser/)
  }
  t.doesNotThrow(() => compileRules(withGroup({ type: 'whitelist', list: ['127.0.0.1'], deny: true }), {}))
  t.doesNotThrow(() => compileRules(withGroup({ type: 'isuser', list: ['bob'], deny: 1 }), {}))
  rejects(t, withGroup({ type: 'isuser', list: ['bob'], deny: 'yes' }), 'groups.g.deny', /true, false, 1 or 0/)
  rejects(t, withGroup({ type: 'open', param_: 'x' }), 'groups.g.param_', /invalid parameter name/)
  rejects(t, withGroup({ type: 'open', param_id: 5 }), 'groups.g.param_id', /pattern must be a string/)
})

t.test('flags: secure and terminal accept 1/true/0/false only (D18)', async t => {
  for (const value of [1, true, 0, false]) {
    t.doesNotThrow(() => compileRules(withGroup({ type: 'open', secure: value, terminal: value }), {}), String(value))
  }
  for (const value of ['1', 'true', 2, null, [], {}]) {
    rejects(t, withGroup({ type: 'open', secure: value }), 'groups.g.secure', /must be true, false, 1 or 0/)
    rejects(t, withGroup({ type: 'open', terminal: value }), 'groups.g.terminal', /must be true, false, 1 or 0/)
  }
})

t.test('lists', async t => {
  rejects(t, withGroup({ type: 'whitelist' }), 'groups.g.list', /must be an array of strings/)
  rejects(t, withGroup({ type: 'whitelist', list: '127.0.0.1' }), 'groups.g.list', /must be an array/)
  rejects(t, withGroup({ type: 'whitelist', list: [] }), 'groups.g.list', /empty array/)
  rejects(t, withGroup({ type: 'isuser', list: [] }), 'groups.g.list', /empty array/)
  rejects(t, withGroup({ type: 'isuser', list: ['admin', ''] }), 'groups.g.list[1]', /non-empty string/)
  rejects(t, withGroup({ type: 'isuser', list: ['admin', 3] }), 'groups.g.list[1]', /non-empty string/)
})

t.test('invalid whitelist entries', async t => {
  const bad = ['2130706433', '0x7f.0.0.1', '127.1', '127.0.0.01', '256.0.0.1', '1.2.3', 'example.com', '1.2.3.4-3', '1.2.3.10-300',
    '1.2.3-4.5', '1.2.3.x-y', '10.0.0.0/33', '10.0.0.0/', '10.1/8', 'fd00::/129', 'fd00::/x', '::ffff:127.1', ' 127.0.0.1', 'localhost.']
  for (const entry of bad) {
    rejects(t, withGroup({ type: 'whitelist', list: ['127.0.0.1', entry] }), 'groups.g.list[1]', /invalid|backwards/)
  }
  t.doesNotThrow(() => compileRules(withGroup({
    type: 'whitelist',
    list: ['localhost', '10.0.0.1', '::1', '192.168.0.1-255', '10.0.0.0/8', 'fd00::/8', '::ffff:10.1.2.3', '1.2.3.4-4']
  }), {}))
})

t.test('levels (D9, D11, behaviour 53)', async t => {
  rejects(t, withGroup({ type: 'userlevel' }), 'groups.g.level', /missing level/)
  rejects(t, withGroup({ type: 'userlevel', level: 'administrator' }), 'groups.g.level', /unknown level "administrator"/)
  rejects(t, withGroup({ type: 'open', demote: 'root' }), 'groups.g.demote', /unknown level "root"/)
  rejects(t, withGroup({ type: 'open', elevate: 'admin' }), 'groups.g.elevate', /cannot elevate to "admin"/)
  rejects(t, withGroup({ type: 'open', elevate: 'superuser' }), 'groups.g.elevate', /cannot elevate to "superuser"/)
  rejects(t, withGroup({ type: 'open', elevate: 'creator' }), 'groups.g.elevate', /cannot elevate/, { maxElevate: 'builder' })
  for (const level of ['builder', 'creator', 'editor', 'reader']) {
    t.doesNotThrow(() => compileRules(withGroup({ type: 'open', elevate: level }), {}), level)
  }
  t.doesNotThrow(() => compileRules(withGroup({ type: 'userlevel', level: 'editor' }), {}))
})

t.test('compile options', async t => {
  const source = withGroup({ type: 'open' })
  rejects(t, source, 'options.levels', /non-empty array/, { levels: [] })
  rejects(t, source, 'options.levels[1]', /duplicate level/, { levels: ['a', 'a'] })
  rejects(t, source, 'options.levels[0]', /non-empty string/, { levels: [''] })
  rejects(t, source, 'options.levelAliases.editor', /unknown level "nobody"/, { levelAliases: { editor: 'nobody' } })
  rejects(t, source, 'options.levelAliases.admin', /already a level name/, { levelAliases: { admin: 'reader' } })
  rejects(t, source, 'options.maxElevate', /below admin/, { maxElevate: 'admin' })
  rejects(t, source, 'options.maxElevate', /unknown level "wizard"/, { maxElevate: 'wizard' })
  // Custom levels without "creator" must name their own ceiling.
  rejects(t, source, 'options.maxElevate', /unknown level "creator"/, { levels: ['guest', 'member', 'admin'] })
  t.doesNotThrow(() => compileRules(source, { levels: ['guest', 'member', 'admin'], maxElevate: 'member' }))
  rejects(t, source, 'options.caseSensitive', /boolean/, { caseSensitive: 'no' })
})

t.test('token rules', async t => {
  rejects(t, withGroup({ type: 'token', value: 'abc' }), 'groups.g.header', /valid header name/)
  rejects(t, withGroup({ type: 'token', header: 'X Token', value: 'abc' }), 'groups.g.header', /valid header name/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token' }), 'groups.g.value', /at least one token/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token', value: '' }), 'groups.g.value', /empty token/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token', list: ['a', ''] }), 'groups.g.list[1]', /empty token|non-empty/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token', value: [] }), 'groups.g.value', /empty array/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token', value: ' padded ' }), 'groups.g.value', /whitespace/)
  rejects(t, withGroup({ type: 'token', header: 'X-Access-Token', value: 'a', list: ['b'] }), 'groups.g', /either "value" or "list"/)
})

t.test('token values never appear in error messages', async t => {
  const secret = 'super-secret-token-value'
  for (const group of [
    { type: 'token', header: 'X Bad', value: secret },
    { type: 'token', header: 'X-Ok', value: `${secret} ` },
    { type: 'token', header: 'X-Ok', value: secret, list: [secret] },
    { type: 'token', header: 'X-Ok', value: secret, bogus: 1 }
  ]) {
    t.throws(() => compileRules(withGroup(group), {}), RulesConfigError)
    try {
      compileRules(withGroup(group), {})
    } catch (error) {
      t.notMatch((error as Error).message, secret)
    }
  }
})

t.test('settings', async t => {
  rejects(t, { paths: {}, groups: {}, settings: [] }, 'settings', /must be an object/)
  rejects(t, { paths: {}, groups: {}, settings: { lockdown: true } }, 'settings.lockdown', /unknown setting "lockdown"/)
  rejects(t, { paths: {}, groups: {}, settings: { lockout: 1 } }, 'settings.lockout', /true or false/)
  rejects(t, { paths: {}, groups: {}, settings: { diagnostics: 'yes' } }, 'settings.diagnostics', /true or false/)
})
