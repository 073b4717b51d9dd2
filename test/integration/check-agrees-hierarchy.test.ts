// check-agrees (next door) over resource hierarchies, in a file of its own
// so that each stays well inside the per-file time limit: random trees built
// by random moves (some refused: a parent type the option does not allow, a
// cycle, a path past maxDepth), grants (live, expired, expiring, type-level) and
// owners on every level, and an edge that stops `manage`. The route check's
// statement (and its form with how long the answer holds, for the decision
// cache), `check` through the service API, `checkMany`, `filter`,
// `listIds` and `holds` on the full facts must all give the answer of a
// small reference model that walks its own parent map.
import fc from 'fast-check'
import t from 'tap'
import { sql } from 'kysely'
import type { HierarchyOptions, Principal, ResourceRef } from '../../fastify-plugin.js'
import { holds } from '../../lib/decision/decide.js'
import { checkPlan, satisfiedByOf, type Policy } from '../../lib/decision/policy.js'
import { userPrincipal, ANONYMOUS } from '../../lib/decision/principal.js'
import { createStore } from '../../lib/store/index.js'
import { databaseOf } from '../../lib/store/database.js'
import { build } from '../helper.js'

const RUNS = Number(process.env.CHECK_AGREES_RUNS ?? 40)
const SEED = Number(process.env.CHECK_AGREES_SEED ?? 20261129)
// Trees: random moves (some refused: a type the option does not allow, a
// cycle, a path past maxDepth), grants and owners on every level, an edge
// that stops `manage`. The reference model walks its own parent map.
const H_TYPES = { doc: ['d1', 'd2', 'd3'], folder: ['f1', 'f2', 'f3'], proj: ['p1', 'p2'] } as const
type HType = keyof typeof H_TYPES
const H_PARENTS: Record<string, string[]> = { doc: ['folder', 'proj'], folder: ['folder', 'proj'], proj: [] }
const H_MAX_DEPTH = 3
const H_PRIVILEGES = ['read', 'edit', 'manage'] as const
const H_IMPLIES = { manage: ['read', 'edit'], edit: ['read'] }
// Owners hold manage, and so read and edit; across the restricted edge only those two.
const H_OWNED = ['manage']
const hRef = fc.constantFrom(...(Object.entries(H_TYPES) as Array<[HType, readonly string[]]>).flatMap(([type, ids]) => ids.map((id) => ({ resource: type as string, id }))))
const hWorld = fc.record({
  moves: fc.array(fc.record({ child: hRef, parent: fc.option(hRef, { nil: null, freq: 5 }) }), { maxLength: 14 }),
  grants: fc.array(fc.record({
    grantee: fc.constantFrom({ kind: 'user', id: 'u1' }, { kind: 'group', id: 'g1' }, { kind: 'anonymous', id: '' }),
    target: fc.oneof(hRef, fc.constantFrom('doc', 'folder', 'proj').map((resource) => ({ resource, id: null as string | null }))),
    privilege: fc.constantFrom(...H_PRIVILEGES),
    expiry: fc.constantFrom('none', 'none', 'past', 'future')
  }), { maxLength: 8 }),
  owners: fc.array(fc.record({ target: hRef, owner: fc.constantFrom('u1', 'u2') }), { maxLength: 3 }),
})

t.test('with a hierarchy: check, checkMany, filter, listIds and holds() agree with a reference model over random trees and moves', async (t) => {
  const hierarchy: HierarchyOptions = {
    maxDepth: H_MAX_DEPTH,
    types: { doc: { parents: ['folder', { type: 'proj', inherits: ['read', 'edit'] }] }, folder: { parents: ['folder', 'proj'] } }
  }
  const built = await build(t, { hierarchy, resources: Object.keys(H_TYPES), privileges: [...H_PRIVILEGES], implies: H_IMPLIES, ownerPrivileges: H_OWNED })
  await built.app.ready()
  const { db, schema } = built
  const p = built.app.permissions
  const { reader } = createStore(databaseOf(db), schema, { groupDepth: 0, groupResource: 'group' }, { parentTypes: ['folder', 'proj'] })
  const scoped = db.withSchema(schema)
  await scoped.schema.createTable('host_h').addColumn('id', 'text', (col) => col.primaryKey()).execute()
  await scoped.insertInto('host_h').values([...new Set(Object.values(H_TYPES).flat())].map((id) => ({ id }))).execute()
  const principals: Principal[] = [ANONYMOUS, userPrincipal('u1', []), userPrincipal('u2', ['g1'])]
  let compared = 0
  let refused = 0

  await fc.assert(fc.asyncProperty(hWorld, async (w) => {
    await scoped.deleteFrom('default_deny_grant').execute()
    await scoped.deleteFrom('default_deny_resource').execute()
    // The reference: its own parent map, its own refusals.
    const parents = new Map<string, { resource: string, id: string }>()
    const key = (r: { resource: string, id: string }) => `${r.resource}/${r.id}`
    const chain = (r: { resource: string, id: string }) => {
      const up: Array<{ resource: string, id: string, edges: string[] }> = []
      let edges: string[] = []
      for (let at = r, next = parents.get(key(r)); next !== undefined; at = next, next = parents.get(key(next))) {
        edges = [...edges, `${at.resource}>${next.resource}`]
        up.push({ ...next, edges })
      }
      return up
    }
    const height = (r: { resource: string, id: string }): number => {
      let most = 0
      for (const [child, parent] of parents) {
        if (key(parent) === key(r)) {
          const [resource, ...id] = child.split('/')
          most = Math.max(most, 1 + height({ resource: resource as string, id: id.join('/') }))
        }
      }
      return most
    }
    for (const { child, parent } of w.moves) {
      const wrong = parent !== null && (!(H_PARENTS[child.resource] ?? []).includes(parent.resource) ||
        key(child) === key(parent) || chain(parent).some((a) => key(a) === key(child)) ||
        chain(parent).length + 1 + height(child) > H_MAX_DEPTH)
      const done = await p.setParent(child, parent).then(() => true, (err: { code?: string }) => {
        if (err.code !== 'FST_DEFAULT_DENY_INVALID_GRANT') throw err
        return false
      })
      if (done === wrong) {
        t.fail(`move ${key(child)} under ${parent === null ? 'nothing' : key(parent)}: plugin ${done ? 'moved' : 'refused'}, reference ${wrong ? 'refuses' : 'moves'}; tree ${JSON.stringify([...parents])}`)
        return false
      }
      if (!done) refused++
      else if (parent === null) parents.delete(key(child))
      else parents.set(key(child), parent)
    }
    for (const g of w.grants) {
      await scoped.insertInto('default_deny_grant').values({
        principal_kind: g.grantee.kind, principal_id: g.grantee.id, resource_type: g.target.resource, resource_id: g.target.id, privilege: g.privilege,
        expires_at: g.expiry === 'none' ? null : sql`now() ${sql.raw(g.expiry === 'past' ? '-' : '+')} interval '1 hour'`
      }).onConflict((oc) => oc.doNothing()).execute()
    }
    // What the table holds: the first of grants with the same key.
    const stored = w.grants.filter((g, i) => w.grants.findIndex((o) => JSON.stringify([o.grantee, o.target, o.privilege]) === JSON.stringify([g.grantee, g.target, g.privilege])) === i)
    const owners = new Map<string, string>()
    for (const o of w.owners) {
      owners.set(key(o.target), o.owner)
      await p.setOwner({ ...o.target, owner: o.owner })
    }
    const pol: Policy = { satisfiedBy: satisfiedByOf([...H_PRIVILEGES], H_IMPLIES), ownerPrivileges: new Set(H_OWNED), blocked: new Map([['manage', ['doc>proj']]]) }
    const satisfies = (held: string, privilege: string) => held === privilege || (H_IMPLIES[held as 'manage' | 'edit'] ?? []).includes(privilege)
    const reference = (principal: Principal, target: ResourceRef, privilege: string): boolean => {
      const user = principal.kind === 'user' ? principal.id : null
      const holder = (g: typeof w.grants[number]) => g.expiry !== 'past' && (g.grantee.kind === 'anonymous' || (g.grantee.kind === 'user' && g.grantee.id === user) ||
        (g.grantee.kind === 'group' && principal.groups.includes(g.grantee.id)))
      const on = (r: { resource: string, id: string | null }) => stored.some((g) => holder(g) && g.target.resource === r.resource && g.target.id === r.id && satisfies(g.privilege, privilege))
      const ownerHolds = (r: { resource: string, id: string }) => user !== null && owners.get(key(r)) === user && H_OWNED.some((o) => satisfies(o, privilege))
      if (on({ resource: target.resource, id: null })) return true
      if (target.id === null) return false
      const self = { resource: target.resource, id: target.id }
      if (on(self) || ownerHolds(self)) return true
      return chain(self).some((a) => !(privilege === 'manage' && a.edges.includes('doc>proj')) && (on(a) || ownerHolds(a)))
    }
    // How long the answer holds, in minutes: 60 when a grant that counts on the target, its type or an ancestor through a path that
    // lets the privilege pass expires (in an hour); null when none does. Owners have no schedule.
    const nextChange = (principal: Principal, target: ResourceRef, privilege: string): number | null => {
      const user = principal.kind === 'user' ? principal.id : null
      const reached = [{ resource: target.resource, id: null as string | null },
        ...(target.id === null ? [] : [{ resource: target.resource, id: target.id }, ...chain({ resource: target.resource, id: target.id }).filter((a) => !(privilege === 'manage' && a.edges.includes('doc>proj')))])]
      return stored.some((g) => g.expiry === 'future' && satisfies(g.privilege, privilege) &&
        (g.grantee.kind === 'anonymous' || (g.grantee.kind === 'user' && g.grantee.id === user) || (g.grantee.kind === 'group' && principal.groups.includes(g.grantee.id))) &&
        reached.some((r) => r.resource === g.target.resource && r.id === g.target.id)) ? 60 : null
    }
    for (const principal of principals) {
      for (const [type, ids] of Object.entries(H_TYPES)) {
        for (const privilege of H_PRIVILEGES) {
          const plan = checkPlan(pol, privilege)
          const answers: boolean[] = []
          for (const id of [null, ...ids]) {
            const target = { resource: type, id }
            const actual = await reader.check({ principal, resource: type, id, privilege, plan }, {})
            const viaApi = await p.check(principal, { ...target, privilege })
            const facts = holds(principal, privilege, await reader.facts(principal, target), pol)
            const expected = reference(principal, target, privilege)
            compared++
            if (actual !== expected || viaApi !== expected || facts !== expected) {
              t.fail(`${JSON.stringify(principal)} ${privilege} on ${type}/${String(id)}: check ${String(actual)}, api ${String(viaApi)}, facts ${String(facts)}, reference ${String(expected)}; tree ${JSON.stringify([...parents])}, grants ${JSON.stringify(w.grants)}, owners ${JSON.stringify([...owners])}`)
              return false
            }
            // The check the decision cache asks: the same answer, and how long it holds (to the minute).
            const until = await reader.checkUntil({ principal, resource: type, id, privilege, plan }, {})
            const minutes = until.ttl === null ? null : Math.round(until.ttl / 60_000)
            const next = nextChange(principal, target, privilege)
            if (until.allowed !== expected || minutes !== next) {
              t.fail(`${JSON.stringify(principal)} ${privilege} on ${type}/${String(id)}: checkUntil ${JSON.stringify(until)}, reference ${String(expected)} for ${String(next)} min; tree ${JSON.stringify([...parents])}, grants ${JSON.stringify(w.grants)}`)
              return false
            }
            if (id !== null) answers.push(actual)
          }
          const many = await reader.checkMany({ principal, resource: type, ids: [...ids], privilege, plan }, {})
          const allowed = ids.filter((_, i) => answers[i])
          const kept = (await scoped.selectFrom('host_h').select('id').where('id', 'in', [...ids])
            .where(reader.filter({ principal, resource: type, privilege, plan }, sql.ref('host_h.id'))).orderBy('id').execute()).map((r) => r.id as string)
          const listed = await reader.listIds({ principal, resource: type, privilege, plan, after: '', limit: 10 }, {})
          const listAgrees = listed.all ? allowed.length === ids.length : JSON.stringify(listed.ids) === JSON.stringify(allowed)
          // What visible() builds: the holdings asked first (the wide grant, the groups, the sources that hold anything, the
          // pairs below which it reaches resources), the merge of those sources; and count(*) of the filtered set.
          const question = { principal, resource: type, privilege, plan }
          const known = await reader.holdings({ ...question, after: '' }, {})
          const heldRows = await scoped.selectFrom('host_h').select(['id', sql<number>`(count(*) over ())::int`.as('n')]).where('id', 'in', [...ids])
            .where(reader.filter(question, sql.ref('host_h.id'), { ...known, after: '' })).orderBy('id').execute()
          const held = heldRows.map((r) => r.id as string)
          const n = heldRows[0]?.n ?? 0
          if (JSON.stringify(many) !== JSON.stringify(answers) || JSON.stringify(kept) !== JSON.stringify(allowed) || !listAgrees ||
            JSON.stringify(held) !== JSON.stringify(allowed) || n !== allowed.length) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${type}: checkMany ${JSON.stringify(many)}, filter ${JSON.stringify(kept)}, visible's condition ${JSON.stringify(held)} (count ${n}, holdings ${JSON.stringify(known)}), listIds ${JSON.stringify(listed)}, check ${JSON.stringify(answers)}; tree ${JSON.stringify([...parents])}`)
            return false
          }
        }
      }
    }
    return true
  }), { seed: SEED, numRuns: Math.max(5, Math.round(RUNS / 2)) })
  t.ok(compared > 0, `${compared} decisions compared, ${refused} moves refused`)
})
