// The route check is one prepared yes/no statement (and, for the decision
// cache, the same with how long its answer holds), checkMany its form for
// many ids, filter its form inside a host's own query and listIds its keyset
// pages of ids; explain and the grant API read the full facts and decide with
// `holds`. On random worlds (user, group, anonymous and type-level grants,
// owners, expired, live and not yet started grants, implies, owner
// privileges, ids that differ only in case, accents or LIKE wildcards, stored
// and nested group memberships with cycles and chains longer than the depth
// bound) all of them must give the same answer for every principal, target
// and privilege, and the answer of a small reference model written here,
// independently of the plugin's SQL and of `holds`.
import fc from 'fast-check'
import t from 'tap'
import { sql } from 'kysely'
import type { Principal, ResourceRef } from '../../fastify-plugin.js'
import { holds } from '../../lib/decision/decide.js'
import { grantCounts } from '../../lib/decision/rule.js'
import { checkPlan, satisfiedByOf, type Policy } from '../../lib/decision/policy.js'
import { userPrincipal, ANONYMOUS } from '../../lib/decision/principal.js'
import { runMigrations } from '../../lib/index.js'
import { createStore } from '../../lib/store/index.js'
import { databaseOf } from '../../lib/store/database.js'
import { testDatabase } from '../helper.js'

const PRIVILEGES = ['read', 'edit', 'delete', 'manage'] as const
const USERS = ['u1', 'U1', 'u_', 'ü1']
// The last group is written out as an array element: quotes, backslashes, braces and commas.
const GROUPS = ['g1', 'G1', 'g%', 'g"\\{,}']
const TYPES = ['doc', 'Doc']
const IDS = ['d1', 'D1', 'd_', 'd%', 'dé', 'de\u0301', 'd,"}\\ x']
// Short enough that random chains of memberships run past it.
const GROUP_DEPTH = 2
const RUNS = Number(process.env.CHECK_AGREES_RUNS ?? 40)
const SEED = Number(process.env.CHECK_AGREES_SEED ?? 20261129)

const grantee = fc.oneof(
  fc.constantFrom(...USERS).map((id) => ({ kind: 'user', id })),
  fc.constantFrom(...GROUPS).map((id) => ({ kind: 'group', id })),
  fc.constant({ kind: 'anonymous', id: '' })
)
const grant = fc.record({
  grantee,
  type: fc.constantFrom(...TYPES),
  id: fc.option(fc.constantFrom(...IDS), { nil: null, freq: 4 }),
  privilege: fc.constantFrom(...PRIVILEGES),
  expiry: fc.constantFrom('none', 'past', 'future'),
  start: fc.constantFrom('none', 'none', 'past', 'future')
})
const owner = fc.record({ type: fc.constantFrom(...TYPES), id: fc.constantFrom(...IDS), owner: fc.option(fc.constantFrom(...USERS), { nil: null }) })
const policy = fc.record({
  implies: fc.dictionary(fc.constantFrom(...PRIVILEGES), fc.subarray([...PRIVILEGES], { minLength: 1 })),
  owned: fc.subarray([...PRIVILEGES])
})
const membership = fc.record({
  group: fc.constantFrom(...GROUPS),
  member: fc.oneof(
    fc.constantFrom(...USERS).map((id) => ({ kind: 'user' as const, id })),
    fc.constantFrom(...GROUPS).map((id) => ({ kind: 'group' as const, id }))
  )
}).filter((m) => !(m.member.kind === 'group' && m.member.id === m.group))
// Random edges, plus a chain (a user in the first group, each group a member
// of the next) so that paths longer than GROUP_DEPTH occur often.
const memberships = fc.record({
  edges: fc.array(membership, { maxLength: 8 }),
  chain: fc.shuffledSubarray([...GROUPS], { minLength: 2 }),
  user: fc.constantFrom(...USERS)
}).map(({ edges, chain, user }) => [
  ...edges,
  { group: chain[0] as string, member: { kind: 'user' as const, id: user } },
  ...chain.slice(1).map((group, i) => ({ group, member: { kind: 'group' as const, id: chain[i] as string } }))
])
const world = fc.record({
  grants: fc.array(grant, { maxLength: 25 }),
  owners: fc.array(owner, { maxLength: 6 }),
  memberships,
  policy
})

type World = { grants: Array<typeof grant extends fc.Arbitrary<infer G> ? G : never>, owners: Array<{ type: string, id: string, owner: string | null }>, memberships: Array<{ group: string, member: { kind: 'user' | 'group', id: string } }> }

/**
 * A principal's groups in the reference model: the token's and the user's
 * own memberships (level 1), then the groups those are members of, up to
 * GROUP_DEPTH levels.
 */
function referenceGroups (w: World, principal: Principal): Set<string> {
  const user = principal.kind === 'user' ? principal.id : null
  const groups = new Set<string>()
  let level = new Set<string>([...principal.groups, ...w.memberships.filter((m) => m.member.kind === 'user' && m.member.id === user).map((m) => m.group)])
  for (let depth = 1; depth <= GROUP_DEPTH && level.size > 0; depth++) {
    for (const g of level) groups.add(g)
    level = new Set(w.memberships.filter((m) => m.member.kind === 'group' && level.has(m.member.id)).map((m) => m.group))
  }
  return groups
}

/** `held` satisfies `privilege` when following implies from it reaches `privilege`. */
function referenceSatisfies (pol: { implies: Record<string, string[]> }, privilege: string): (held: string) => boolean {
  return (held) => {
    const seen = new Set<string>()
    const stack = [held]
    while (stack.length > 0) {
      const next = stack.pop() as string
      if (next === privilege) return true
      if (seen.has(next)) continue
      seen.add(next)
      stack.push(...(pol.implies[next] ?? []))
    }
    return false
  }
}

/**
 * The stored grants (the first of each key) not past their expiry that
 * count, now or once started, for the principal's `privilege` on the target.
 */
function referenceGrants (w: World, pol: { implies: Record<string, string[]> }, principal: Principal, target: ResourceRef, privilege: string): World['grants'] {
  const satisfies = referenceSatisfies(pol, privilege)
  const user = principal.kind === 'user' ? principal.id : null
  const groups = referenceGroups(w, principal)
  const seen = new Set<string>()
  return w.grants.filter((g) => {
    const key = JSON.stringify([g.grantee, g.type, g.id, g.privilege])
    if (seen.has(key)) return false
    seen.add(key)
    const who = g.grantee.kind === 'anonymous' || (g.grantee.kind === 'user' && g.grantee.id === user) || (g.grantee.kind === 'group' && groups.has(g.grantee.id))
    const on = g.type === target.resource && (g.id === null || g.id === target.id)
    return g.expiry !== 'past' && who && on && satisfies(g.privilege)
  })
}

/**
 * The reference model: what the README says a decision is, over plain
 * arrays. A principal's groups: the token's and the user's own memberships
 * (level 1), then the groups those are members of, up to GROUP_DEPTH levels.
 */
function referenceAllows (w: World, pol: { implies: Record<string, string[]>, owned: string[] }, principal: Principal, target: ResourceRef, privilege: string): boolean {
  if (referenceGrants(w, pol, principal, target, privilege).some((g) => g.start !== 'future')) return true
  const user = principal.kind === 'user' ? principal.id : null
  if (user === null || target.id === null) return false
  let owner: string | null = null
  for (const o of w.owners) if (o.type === target.resource && o.id === target.id) owner = o.owner
  return owner === user && pol.owned.some(referenceSatisfies(pol, privilege))
}

/**
 * How long the reference model's answer holds, in minutes: the next start
 * (30) or expiry (60) of a grant that counts, or will, for the principal on
 * the target; null when none is scheduled. Owners have no schedule.
 */
function referenceNextChange (w: World, pol: { implies: Record<string, string[]> }, principal: Principal, target: ResourceRef, privilege: string): number | null {
  const times = referenceGrants(w, pol, principal, target, privilege)
    .flatMap((g) => g.start === 'future' ? [30] : g.expiry === 'future' ? [60] : [])
  return times.length === 0 ? null : Math.min(...times)
}

function principals (): Principal[] {
  return [
    ANONYMOUS,
    userPrincipal('u1', []),
    userPrincipal('U1', ['g1']),
    userPrincipal('u_', ['G1', 'g%']),
    userPrincipal('ü1', ['g1', 'G1', 'g%']),
    userPrincipal('u1', ['g"\\{,}', 'NULL'])
  ]
}

function targets (): ResourceRef[] {
  return TYPES.flatMap((resource) => [{ resource, id: null }, ...IDS.map((id) => ({ resource, id }))])
}

t.test('check, checkMany, filter and listIds decide as holds() on the full facts', async (t) => {
  const { db, schema } = await testDatabase(t)
  await runMigrations(db, { schema })
  const { reader, members } = createStore(databaseOf(db), schema, { groupDepth: GROUP_DEPTH, groupResource: 'group' })
  const scoped = db.withSchema(schema)
  // A host table holding every id, to run the filter on (plus one id no grant names).
  await scoped.schema.createTable('host_doc').addColumn('id', 'text', (col) => col.primaryKey()).execute()
  await scoped.insertInto('host_doc').values([...IDS, 'other'].map((id) => ({ id }))).execute()
  let compared = 0

  await fc.assert(fc.asyncProperty(world, async (w) => {
    const { grants, owners, memberships, policy: p } = w
    await scoped.deleteFrom('default_deny_grant').execute()
    await scoped.deleteFrom('default_deny_resource').execute()
    await scoped.deleteFrom('default_deny_membership').execute()
    for (const m of memberships) {
      await scoped.insertInto('default_deny_membership').values({ group_id: m.group, member_kind: m.member.kind, member_id: m.member.id })
        .onConflict((oc) => oc.doNothing()).execute()
    }
    const seen = new Set<string>()
    const stored: typeof grants = []
    for (const g of grants) {
      const key = JSON.stringify([g.grantee, g.type, g.id, g.privilege])
      if (seen.has(key)) continue
      seen.add(key)
      stored.push(g)
      await scoped.insertInto('default_deny_grant').values({
        principal_kind: g.grantee.kind,
        principal_id: g.grantee.id,
        resource_type: g.type,
        resource_id: g.id,
        privilege: g.privilege,
        expires_at: g.expiry === 'none' ? null : sql`now() ${sql.raw(g.expiry === 'past' ? '-' : '+')} interval '1 hour'`,
        // A start after the expiry is refused by the table; such a grant simply has no start.
        starts_at: g.start === 'none' || (g.start === 'future' && g.expiry === 'past')
          ? null
          : sql`now() ${sql.raw(g.start === 'past' ? '- interval \'2 hours\'' : '+ interval \'30 minutes\'')}`
      }).execute()
    }
    for (const o of owners) {
      await scoped.insertInto('default_deny_resource').values({ resource_type: o.type, resource_id: o.id, owner_id: o.owner })
        .onConflict((oc) => oc.columns(['resource_type', 'resource_id']).doUpdateSet({ owner_id: o.owner })).execute()
    }
    const satisfiedBy = satisfiedByOf([...PRIVILEGES], p.implies)
    const pol: Policy = { satisfiedBy, ownerPrivileges: new Set(p.owned) }
    for (const principal of principals()) {
      // The walk explain shows paths from (over the memberships) and the
      // closure the checks read (kept by triggers) reach the same groups.
      const walked = (await members.groupsOf(principal)).map((g) => g.group)
      const expectedGroups = [...referenceGroups(w as World, principal)].sort()
      if (JSON.stringify(walked) !== JSON.stringify(expectedGroups)) {
        t.fail(`${JSON.stringify(principal)}: groupsOf ${JSON.stringify(walked)}, reference ${JSON.stringify(expectedGroups)}; memberships ${JSON.stringify(memberships)}`)
        return false
      }
      const single = new Map<string, boolean>()
      for (const target of targets()) {
        const facts = await reader.facts(principal, target)
        // The facts select exactly the grants the pure rule counts, and explain's sources the same ones.
        const now = Date.now()
        const counted = new Set(stored.filter((g) => grantCounts({
          grantee: g.grantee.kind === 'anonymous' ? { kind: 'anonymous' } : g.grantee as never,
          resource: g.type,
          id: g.id,
          privilege: g.privilege,
          startsAt: g.start === 'none' || (g.start === 'future' && g.expiry === 'past') ? null : new Date(now + (g.start === 'past' ? -2 : 0.5) * 3_600_000),
          expiresAt: g.expiry === 'none' ? null : new Date(now + (g.expiry === 'past' ? -1 : 1) * 3_600_000)
        }, principal, referenceGroups(w as World, principal), target, now)).map((g) => g.privilege))
        const sourced = new Set((await reader.sources(principal, target)).map((source) => source.privilege))
        if (JSON.stringify([...facts.privileges].sort()) !== JSON.stringify([...counted].sort()) || JSON.stringify([...sourced].sort()) !== JSON.stringify([...counted].sort())) {
          t.fail(`${JSON.stringify(principal)} on ${JSON.stringify(target)}: facts ${JSON.stringify(facts.privileges)}, sources ${JSON.stringify([...sourced])}, rule ${JSON.stringify([...counted])}`)
          return false
        }
        for (const privilege of PRIVILEGES) {
          const expected = holds(principal, privilege, facts, pol)
          const actual = await reader.check({ principal, resource: target.resource, id: target.id, privilege, plan: checkPlan(pol, privilege) }, {})
          const reference = referenceAllows(w as World, p, principal, target, privilege)
          single.set(JSON.stringify([target.resource, target.id, privilege]), actual)
          compared++
          if (actual !== expected || actual !== reference) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${JSON.stringify(target)}: check ${String(actual)}, facts ${String(expected)}, reference ${String(reference)}; memberships ${JSON.stringify(memberships)}`)
            return false
          }
          // The check the decision cache asks: the same answer, and how long it holds (to the minute, the grants' times being relative to now).
          const until = await reader.checkUntil({ principal, resource: target.resource, id: target.id, privilege, plan: checkPlan(pol, privilege) }, {})
          const nextChange = referenceNextChange(w as World, p, principal, target, privilege)
          const minutes = until.ttl === null ? null : Math.round(until.ttl / 60_000)
          if (until.allowed !== reference || minutes !== nextChange) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${JSON.stringify(target)}: checkUntil ${JSON.stringify(until)}, reference ${String(reference)} for ${String(nextChange)} min; grants ${JSON.stringify(grants)}`)
            return false
          }
        }
      }
      // checkMany answers each id as check does, in order, repeats included.
      for (const resource of TYPES) {
        for (const privilege of PRIVILEGES) {
          const ids = [...IDS, ...IDS.slice(0, 2)]
          const many = await reader.checkMany({ principal, resource, ids, privilege, plan: checkPlan(pol, privilege) }, {})
          const expected = ids.map((id) => single.get(JSON.stringify([resource, id, privilege])))
          if (JSON.stringify(many) !== JSON.stringify(expected)) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${resource} ${JSON.stringify(ids)}: checkMany ${JSON.stringify(many)}, check ${JSON.stringify(expected)}`)
            return false
          }
          // The filter keeps exactly the rows check allows ('other': as check says for an id with no grant).
          const other = await reader.check({ principal, resource, id: 'other', privilege, plan: checkPlan(pol, privilege) }, {})
          // With count(*) of the filtered set beside each row (the same rows, counted).
          const question = { principal, resource, privilege, plan: checkPlan(pol, privilege) }
          const keptRows = await scoped.selectFrom('host_doc').select(['id', sql<number>`(count(*) over ())::int`.as('n')])
            .where(reader.filter(question, sql.ref('host_doc.id'))).execute()
          const kept = keptRows.map((row) => row.id as string).sort()
          const allowed = [...IDS.filter((id) => single.get(JSON.stringify([resource, id, privilege]))), ...(other ? ['other'] : [])].sort()
          if (JSON.stringify(kept) !== JSON.stringify(allowed) || keptRows.some((row) => row.n !== allowed.length)) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${resource}: filter kept ${JSON.stringify(keptRows)}, check allows ${JSON.stringify(allowed)}`)
            return false
          }
          // listIds, page by page: every id check allows (all: every id at all), sorted byte-wise.
          const listed: string[] = []
          let all = false
          for (let after = '', page = 0; page < 10; page++) {
            const result = await reader.listIds({ principal, resource, privilege, plan: checkPlan(pol, privilege), after, limit: 2 }, {})
            all = result.all
            listed.push(...result.ids)
            if (result.ids.length < 2) break
            after = result.ids[result.ids.length - 1] as string
          }
          const bytewise = [...allowed].filter((id) => id !== 'other').sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
          const agrees = all ? other && allowed.length === IDS.length + 1 : JSON.stringify(listed) === JSON.stringify(bytewise)
          if (!agrees) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${resource}: listIds ${JSON.stringify({ all, listed })}, check allows ${JSON.stringify(bytewise)}`)
            return false
          }
          // What visible() builds: the holdings asked first (the wide grant, the groups, the sources that hold anything after
          // the bound, from the start or from a keyset bound in turn), the merge of those sources; and its count(*): the same rows again.
          const after = compared % 2 === 0 ? '' : 'd2'
          const known = await reader.holdings({ ...question, after }, {})
          const heldRows = await scoped.selectFrom('host_doc').select(['id', sql<number>`(count(*) over ())::int`.as('n')])
            .where(reader.filter(question, sql.ref('host_doc.id'), { ...known, after })).execute()
          const held = heldRows.map((row) => row.id as string).sort()
          // With a wide grant the condition is every row, and the bound is the host's query's to apply.
          const bounded = known.all ? allowed : allowed.filter((id) => Buffer.compare(Buffer.from(id), Buffer.from(after)) > 0)
          if (JSON.stringify(held) !== JSON.stringify(bounded) || heldRows.some((row) => row.n !== bounded.length)) {
            t.fail(`${JSON.stringify(principal)} ${privilege} on ${resource}: visible's condition after ${JSON.stringify(after)} (holdings ${JSON.stringify(known)}) kept ${JSON.stringify(heldRows)}, check allows ${JSON.stringify(bounded)}`)
            return false
          }
        }
      }
    }
    return true
  }), { seed: SEED, numRuns: RUNS })
  t.ok(compared > 0, `${compared} decisions compared`)
})
