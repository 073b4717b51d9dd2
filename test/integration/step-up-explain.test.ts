// explain with step-up on: which privileges need a second factor, and for the
// asked one whether the principal's token has it, in data and in the
// summary; nothing changes without the option.
import t from 'tap'
import { userPrincipal } from '../../lib/decision/principal.js'
import { build } from '../helper.js'

const d1 = { resource: 'document', id: 'd1' }
const now = () => Math.floor(Date.now() / 1000)

async function setup (t: Parameters<typeof build>[0], options: Parameters<typeof build>[1] = { stepUp: {} }) {
  const built = await build(t, options)
  await built.app.ready()
  await built.app.permissions.setOwner({ ...d1, owner: 'olga' })
  await built.app.permissions.replace({ grantee: { kind: 'user', id: 'carol' }, ...d1, privileges: ['read', 'edit'] })
  return built
}

t.test('the service explain says whether the token has the second factor the privilege needs', async (t) => {
  const { app } = await setup(t)
  const withPassword = userPrincipal('carol', [], false, { sub: 'carol', amr: ['pwd'] })
  const lacking = await app.permissions.explain(withPassword, { ...d1, privilege: 'edit' })
  t.equal(lacking.decision, 'allow', 'the grants allow')
  t.same(lacking.stepUp, { privilege: 'edit', satisfied: false, missing: 'factor' })
  t.equal(lacking.summary, 'allowed: user carol holds edit; edit also needs a second factor (step-up), which the token lacks: 401 until the user steps up')
  t.same(lacking.privileges.map((p) => [p.privilege, p.stepUp ?? false]), [['read', false], ['edit', true]])

  const withFactor = userPrincipal('carol', [], false, { sub: 'carol', amr: ['pwd', 'mfa'] })
  const satisfied = await app.permissions.explain(withFactor, { ...d1, privilege: 'edit' })
  t.same(satisfied.stepUp, { privilege: 'edit', satisfied: true })
  t.equal(satisfied.summary, 'allowed: user carol holds edit; edit also needs a second factor (step-up), and the token has one')

  const denied = await app.permissions.explain(withFactor, { ...d1, privilege: 'delete' })
  t.equal(denied.decision, 'deny')
  t.same(denied.stepUp, { privilege: 'delete', satisfied: true })
  t.match(denied.summary, /^denied: .*; the request needs delete; delete also needs a second factor \(step-up\), and the token has one$/)

  const read = await app.permissions.explain(withPassword, { ...d1, privilege: 'read' })
  t.notOk('stepUp' in read, 'a read needs no step-up: no field')
  t.equal(read.summary, 'allowed: user carol holds read')

  const all = await app.permissions.explain(withPassword, d1)
  t.equal(all.summary, 'can read, edit; edit needs a second factor (step-up)')
  t.notOk('stepUp' in all)
})

t.test('maxAge: a stale second factor is missing max_age', async (t) => {
  const { app } = await setup(t, { stepUp: { maxAge: 600 } })
  const stale = userPrincipal('carol', [], false, { sub: 'carol', amr: ['mfa'], auth_time: now() - 601 })
  const explanation = await app.permissions.explain(stale, { ...d1, privilege: 'edit' })
  t.same(explanation.stepUp, { privilege: 'edit', satisfied: false, missing: 'max_age' })
  t.match(explanation.summary, /edit also needs a second factor from the last 600 s \(step-up\), and the token's is older or undated: 401/)
  const fresh = userPrincipal('carol', [], false, { sub: 'carol', amr: ['mfa'], auth_time: now() })
  t.same((await app.permissions.explain(fresh, { ...d1, privilege: 'edit' })).stepUp, { privilege: 'edit', satisfied: true })
})

t.test('a principal given by id has no token to judge; the anonymous principal never has a second factor', async (t) => {
  const { app } = await setup(t)
  const byId = await app.permissions.explain(userPrincipal('carol', []), { ...d1, privilege: 'edit' })
  t.same(byId.stepUp, { privilege: 'edit', satisfied: null })
  t.equal(byId.summary, 'allowed: user carol holds edit; edit also needs a second factor in the token (step-up)')
  const anonymous = await app.permissions.explain(app.permissions.anonymous, { ...d1, privilege: 'edit' })
  t.same(anonymous.stepUp, { privilege: 'edit', satisfied: false, missing: 'factor' })
})

t.test('GET /permissions/:resource/:id/explain carries the step-up fields', async (t) => {
  const { app, as } = await setup(t)
  const res = await app.inject({ url: '/permissions/document/d1/explain?kind=user&principal=carol&privilege=edit', headers: as('olga') })
  t.equal(res.statusCode, 200, 'a read of the grant API: no second factor needed')
  const body = res.json()
  t.equal(body.decision, 'allow')
  t.same(body.stepUp, { privilege: 'edit', satisfied: null })
  t.match(body.summary, /; edit also needs a second factor in the token \(step-up\)$/)
  t.same(body.privileges.map((p: { privilege: string, stepUp?: boolean }) => [p.privilege, p.stepUp ?? false]), [['read', false], ['edit', true]])
  const manage = (await app.inject({ url: '/permissions/document/d1/explain?kind=user&principal=olga&privilege=manage', headers: as('olga') })).json()
  t.same(manage.stepUp, { privilege: 'manage', satisfied: null }, 'managing grants needs it too')
})

t.test('without the option explain is unchanged', async (t) => {
  const { app } = await setup(t, {})
  const explanation = await app.permissions.explain(userPrincipal('carol', [], false, { sub: 'carol' }), { ...d1, privilege: 'edit' })
  t.same(explanation, {
    privileges: [
      { privilege: 'read', via: [{ source: 'user', grantee: { kind: 'user', id: 'carol' }, privilege: 'read', typeLevel: false }] },
      { privilege: 'edit', via: [{ source: 'user', grantee: { kind: 'user', id: 'carol' }, privilege: 'edit', typeLevel: false }] }
    ],
    decision: 'allow',
    summary: 'allowed: user carol holds edit'
  })
})
