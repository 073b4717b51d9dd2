// The decision function alone: no HTTP, no database.
import t from 'tap'
import fc from 'fast-check'
import type { Principal } from '../../fastify-plugin.js'
import { decide, holds, type Facts } from '../../lib/decision/decide.js'
import type { Policy } from '../../lib/decision/policy.js'
import { resolveOptions } from '../../lib/options/index.js'
import { ANONYMOUS } from '../../lib/decision/principal.js'

const fakeDb = { selectFrom () {}, withSchema () {} }
function policy (options: Record<string, unknown> = {}): Policy {
  const settings = resolveOptions({ db: fakeDb, ...options })
  return { satisfiedBy: settings.policy.satisfiedBy, ownerPrivileges: settings.policy.ownerPrivileges }
}
const user = (id: string, extra: Partial<Principal> = {}): Principal =>
  ({ kind: 'user', id, groups: [], superuser: false, claims: {}, ...extra })
const read = { kind: 'resource', resource: 'document', privilege: 'read' } as const
const none: Facts = { privileges: [], owner: null }

t.test('table of decisions', async (t) => {
  const p = policy()
  const rows: Array<[string, Principal, Parameters<typeof decide>[1], Facts | null, string]> = [
    ['unannotated, superuser', user('root', { superuser: true }), { kind: 'unannotated' }, none, 'deny'],
    ['public, anonymous', ANONYMOUS, { kind: 'public' }, null, 'allow'],
    ['authenticated, anonymous', ANONYMOUS, { kind: 'authenticated' }, null, 'unauthenticated'],
    ['authenticated, user', user('a'), { kind: 'authenticated' }, null, 'allow'],
    ['no facts', user('a'), read, null, 'deny'],
    ['nothing held', user('a'), read, none, 'deny'],
    ['read held', user('a'), read, { privileges: ['read'], owner: null }, 'allow'],
    ['edit held, read needed', user('a'), read, { privileges: ['edit', 'delete'], owner: null }, 'deny'],
    ['owner', user('a'), read, { privileges: [], owner: 'a' }, 'allow'],
    ['someone else owns it', user('a'), read, { privileges: [], owner: 'b' }, 'deny'],
    ['anonymous never owns', ANONYMOUS, read, { privileges: [], owner: null }, 'deny'],
    ['superuser without facts', user('root', { superuser: true }), read, null, 'allow'],
    ['unknown privilege held', user('a'), read, { privileges: ['no_access', 'READ'], owner: null }, 'deny']
  ]
  for (const [name, principal, requirement, facts, expected] of rows) {
    t.equal(decide(principal, requirement, facts, p), expected, name)
  }
  t.notOk(holds(user('a'), 'publish', { privileges: ['publish'], owner: null }, p), 'a privilege outside the configured set')
})

t.test('property: without superuser, ownership or a satisfying privilege, always deny', async () => {
  const p = policy({ implies: { delete: ['edit'], edit: ['read'] } })
  const privilege = fc.constantFrom('read', 'edit', 'delete')
  fc.assert(fc.property(
    fc.string(), fc.array(fc.string()), privilege, fc.array(fc.string()), fc.option(fc.string(), { nil: null }),
    (id, groups, needed, held, owner) => {
      const principal = user(id, { groups })
      const allowed = decide(principal, { kind: 'resource', resource: 'r', privilege: needed }, { privileges: held, owner }, p) === 'allow'
      const satisfying = p.satisfiedBy.get(needed) as ReadonlySet<string>
      const expected = held.some((h) => satisfying.has(h)) || owner === id
      return allowed === expected
    }
  ))
})

t.test('property: adding grants never turns an allow into a deny (monotonic)', async () => {
  const p = policy({ implies: { edit: ['read'] } })
  const priv = fc.constantFrom('read', 'edit', 'delete', 'other')
  fc.assert(fc.property(fc.array(priv), fc.array(priv), fc.constantFrom('read', 'edit', 'delete'), (held, more, needed) => {
    const requirement = { kind: 'resource', resource: 'r', privilege: needed } as const
    const before = decide(user('a'), requirement, { privileges: held, owner: null }, p)
    const after = decide(user('a'), requirement, { privileges: [...held, ...more], owner: null }, p)
    return before !== 'allow' || after === 'allow'
  }))
})
