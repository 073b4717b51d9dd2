// The readers around the primary's, without a database: a host transaction
// reads in it and nowhere else, a standby takes what the route sends it and
// hands a failed read back to the primary, and the cache's misses and
// unheard revisions read the primary, never a standby.
import t from 'tap'
import type { Kysely } from 'kysely'
import { CachedCheck, CachedReader } from '../../lib/cache/cached-check.js'
import { DecisionCache } from '../../lib/cache/decision-cache.js'
import { userPrincipal } from '../../lib/decision/principal.js'
import { readStack } from '../../lib/service/reads.js'
import type { CheckQuery, CheckReader } from '../../lib/store/check.js'
import type { Database } from '../../lib/store/database.js'
import { StandbyReader, type ReadRoute } from '../../lib/store/replicas.js'

function recorder (name: string, calls: string[], fail = false): CheckReader {
  const answer = async <T>(what: string, value: T): Promise<T> => {
    calls.push(`${name}.${what}`)
    if (fail) throw new Error(`${name} is down`)
    return value
  }
  return {
    hit: () => undefined,
    check: async () => await answer('check', true),
    checkUntil: async () => await answer('checkUntil', { allowed: true, ttl: null }),
    checkMany: async (q) => await answer('checkMany', q.ids.map(() => true)),
    listIds: async () => await answer('listIds', { all: false, ids: [] }),
    holdings: async () => await answer('holdings', { all: false, groups: [] }),
    filter: () => { calls.push(`${name}.filter`); return null as never }
  }
}

const standbyDb = { standby: true } as unknown as Kysely<any>
const hostTrx = { trx: true } as unknown as Kysely<any>
const query: CheckQuery = { principal: userPrincipal('u1', []), resource: 'doc', id: 'd1', privilege: 'read', plan: { accepted: ['read'], ownerCounts: false, blocked: [] } }
const scope = { schema: 'public', groupDepth: 0 }

function route (calls: string[]): ReadRoute {
  return {
    primary: { primary: true },
    databases: [{ db: standbyDb, direct: null } as unknown as Database],
    any: () => standbyDb,
    atLeast: async (revision: bigint) => { calls.push(`route.atLeast ${revision}`); return standbyDb },
    failed: () => { calls.push('route.failed') },
    nameOf: (db: unknown) => db === standbyDb ? '127.0.0.1:5433' : null
  } as unknown as ReadRoute
}

t.test('a host transaction reads in it, past the standbys', async (t) => {
  const calls: string[] = []
  const stack = readStack({ reader: recorder('primary', calls), cached: null, barrier: null, route: route(calls), scope })
  await stack.check(query, { db: hostTrx })
  await stack.checkMany({ ...query, ids: ['a'] }, { db: hostTrx })
  t.same(calls, ['primary.check', 'primary.checkMany'])
  t.equal(stack.hit(query, { db: hostTrx }), undefined)
})

t.test('a standby that fails a read hands it back to the primary', async (t) => {
  const calls: string[] = []
  const reader = new StandbyReader(route(calls), recorder('primary', calls), () => recorder('standby', calls, true))
  t.equal(await reader.check(query, { revision: 7n }), true)
  t.same(calls, ['route.atLeast 7', 'standby.check', 'route.failed', 'primary.check'])
  calls.length = 0
  await reader.listIds({ ...query, after: '', limit: 2 }, {})
  t.same(calls, ['standby.listIds', 'route.failed', 'primary.listIds'])
  calls.length = 0
  await reader.checkUntil(query, {})
  t.same(calls, ['primary.checkUntil'], 'an answer with its time bound is the primary\'s')
})

t.test('a check notes the standby it was read from, for its span; none once it falls back to the primary', async (t) => {
  const calls: string[] = []
  const note = { standby: null as string | null }
  await new StandbyReader(route(calls), recorder('primary', calls), () => recorder('standby', calls)).check(query, { note })
  t.equal(note.standby, '127.0.0.1:5433')
  const failed = { standby: null as string | null }
  await new StandbyReader(route(calls), recorder('primary', calls), () => recorder('standby', calls, true)).check(query, { note: failed })
  t.equal(failed.standby, null)
})

t.test('with the cache on, a check reads the primary and lists go to the standbys', async (t) => {
  const calls: string[] = []
  const primary = recorder('primary', calls)
  const standbys = new StandbyReader(route(calls), primary, () => recorder('standby', calls))
  const cache = new DecisionCache({ maxEntries: 100, maxBytes: 1_000_000, maxAge: 60_000 })
  // The feed's barrier has heard nothing yet: a presented revision reads past the cache.
  const reader = new CachedReader(new CachedCheck(cache, primary), async () => 0n, standbys)
  await reader.check(query, {})
  await reader.check(query, { revision: 5n })
  await reader.checkMany({ ...query, ids: ['a'] }, {})
  t.same(calls, ['primary.check', 'primary.check', 'standby.checkMany'])
  t.equal(reader.hit(query, { revision: 5n }), undefined, 'no hit with a revision')
})
