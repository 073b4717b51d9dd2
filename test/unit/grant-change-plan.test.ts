// planGrants, pure: what setting a grantee's privileges changes, the dates
// included, without a database.
import t from 'tap'
import { planGrants } from '../../lib/decision/grant-change.js'

const d1 = new Date('2030-01-01T00:00:00.000Z')
const d2 = new Date('2030-02-01T00:00:00.000Z')
const read = (expiresAt: Date | null = null, startsAt: Date | null = null) => ({ privilege: 'read', expiresAt, startsAt })

t.test('the same privilege with the same dates changes nothing', async (t) => {
  const plan = planGrants([read(d1)], { privileges: ['read'], only: ['read'], expiresAt: new Date(d1.getTime()), startsAt: null })
  t.same(plan, { remove: [], add: [], reschedule: [], after: [read(d1)], changed: [] })
})

t.test('new dates, or dates dropped, reschedule a kept privilege', async (t) => {
  t.same(planGrants([read(d1)], { privileges: ['read'], expiresAt: d2 }).reschedule, [read(d2)])
  t.same(planGrants([read(d1)], { privileges: ['read'], expiresAt: null, startsAt: null }).changed, ['read'], 'an absent date means none')
  t.same(planGrants([read(null, d1)], { privileges: ['read'], startsAt: d2 }).after, [read(null, d2)])
})

t.test('undefined dates leave a kept grant as it is; a new grant gets none', async (t) => {
  const plan = planGrants([read(d1, d1)], { privileges: ['read', 'edit'] })
  t.same(plan.changed, ['edit'])
  t.same(plan.after, [{ privilege: 'edit', expiresAt: null, startsAt: null }, read(d1, d1)])
})

t.test('`only` limits what is taken; per-privilege schedules win over the shared one', async (t) => {
  const held = [read(), { privilege: 'edit', expiresAt: null, startsAt: null }]
  t.same(planGrants(held, { privileges: [], only: ['edit'] }).remove, ['edit'])
  const plan = planGrants(held, { privileges: ['read', 'edit'], expiresAt: null, schedules: new Map([['edit', { expiresAt: d2 }]]) })
  t.same(plan.changed, ['edit'])
  t.same(plan.reschedule, [{ privilege: 'edit', expiresAt: d2, startsAt: null }])
})
