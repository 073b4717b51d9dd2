// Behaviours 47 and 48 (D9): isuser membership and userlevel thresholds.
import t from 'tap'
import { engine, single } from '../fixtures/rules/helpers.js'

t.test('isuser: exact, case-sensitive membership', async t => {
  const isAdmin = single({ type: 'isuser', list: ['admin', 'ops'] })
  t.equal(isAdmin({ user: 'admin' }).allow, true)
  t.equal(isAdmin({ user: 'ops' }).allow, true)
  t.equal(isAdmin({ user: 'Admin' }).allow, false, 'case-sensitive')
  t.equal(isAdmin({ user: 'admin ' }).allow, false)
  t.equal(isAdmin({ user: 'administrator' }).allow, false)
  t.equal(isAdmin({ user: 'bob', level: 'superuser' }).allow, false, 'level does not matter: another superuser is refused')
  t.match(isAdmin({ user: 'bob' }), { allow: false, reason: 'rule', ruleType: 'isuser' })
})

t.test('isuser: the anonymous principal never matches', async t => {
  const isAdmin = single({ type: 'isuser', list: ['admin'] })
  t.equal(isAdmin({ user: null }).allow, false)
  t.equal(isAdmin({ user: '' }).allow, false)
  // Prototype names are not members.
  t.equal(single({ type: 'isuser', list: ['admin'] })({ user: 'constructor' }).allow, false)
})

t.test('isuser with deny: true is a blacklist', async t => {
  const notMallory = single({ type: 'isuser', list: ['mallory'], deny: true })
  t.equal(notMallory({ user: 'mallory' }).allow, false)
  t.equal(notMallory({ user: 'alice' }).allow, true)
  t.equal(notMallory({ user: 'Mallory' }).allow, true, 'case-sensitive both ways')
  // Documented choice: anonymous is not on the list, so it passes a blacklist.
  t.equal(notMallory({ user: null }).allow, true)
  t.equal(single({ type: 'isuser', list: ['mallory'], deny: 0 })({ user: 'mallory' }).allow, true, 'deny: 0 is off')
})

t.test('userlevel: threshold over the default ordering', async t => {
  const atLeastAdmin = single({ type: 'userlevel', level: 'admin' })
  t.equal(atLeastAdmin({ level: 'admin' }).allow, true)
  t.equal(atLeastAdmin({ level: 'superuser' }).allow, true, 'higher passes')
  for (const level of ['reader', 'builder', 'editor', 'creator']) {
    t.equal(atLeastAdmin({ level }).allow, false, level)
  }
  t.equal(atLeastAdmin({ level: null }).allow, false, 'anonymous / no level')
  t.equal(atLeastAdmin({ level: 'Admin' }).allow, false, 'unknown names are no level')
  t.equal(atLeastAdmin({ level: 'root' }).allow, false)
  t.equal(atLeastAdmin({ level: 'toString' }).allow, false)
  t.match(atLeastAdmin({ level: 'reader' }), { reason: 'rule', ruleType: 'userlevel' })
})

t.test('userlevel: editor is an alias of builder', async t => {
  const builder = single({ type: 'userlevel', level: 'builder' })
  t.equal(builder({ level: 'editor' }).allow, true)
  t.equal(builder({ level: 'reader' }).allow, false)
  const editor = single({ type: 'userlevel', level: 'editor' })
  t.equal(editor({ level: 'builder' }).allow, true)
  t.equal(editor({ level: 'creator' }).allow, true)
  t.equal(editor({ level: 'reader' }).allow, false)
})

t.test('userlevel: configurable ordering', async t => {
  const run = engine({ paths: { 'x/': 'g' }, groups: { g: { type: 'userlevel', level: 'staff' } } }, {
    levels: ['guest', 'member', 'staff', 'owner'], levelAliases: { employee: 'staff' }, maxElevate: 'member'
  })
  t.equal(run({ url: '/x', level: 'owner' }).allow, true)
  t.equal(run({ url: '/x', level: 'employee' }).allow, true)
  t.equal(run({ url: '/x', level: 'member' }).allow, false)
  t.equal(run({ url: '/x', level: 'admin' }).allow, false, 'default names mean nothing in a custom ordering')
})

t.test('userlevel ignores elevation granted by other groups', async t => {
  const run = engine({
    paths: { 'x/': 'lift', 'x/y': 'needsCreator' },
    groups: { lift: { type: 'open', elevate: 'creator' }, needsCreator: { type: 'userlevel', level: 'creator' } }
  })
  t.match(run({ url: '/x/y', level: 'reader' }), { allow: false, pathKey: 'x/y' })
  t.match(run({ url: '/x/y', level: 'creator' }), { allow: true, elevate: 'creator' })
})
