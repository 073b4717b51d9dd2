// The decision cache's own rules, on its data structure with a hand-driven
// clock: what is stored, what is refused, what is never served again, and
// that memory stays within its limits.
import t from 'tap'
import { DecisionCache, lookupOf, resourceScope } from '../../lib/cache/decision-cache.js'
import { applyNotification, localChanges } from '../../lib/cache/changes.js'

const alice = { kind: 'user' as const, id: 'alice', groups: ['staff'] }
const limits = { maxEntries: 100, maxBytes: 1 << 20, maxAge: 1000 }

function cache (overrides: Partial<typeof limits> = {}) {
  let now = 0
  const c = new DecisionCache({ ...limits, ...overrides }, () => now)
  c.turnOn()
  return { c, tick: (ms: number) => { now += ms }, now: () => now }
}

const fill = (c: DecisionCache, lookup: ReturnType<typeof lookupOf>, allowed: boolean, started = 0, ttl: number | null = null) => {
  const ticket = c.begin(lookup)
  if (ticket === null) throw new Error('off')
  c.store(lookup, ticket, allowed, started, ttl)
}

t.test('stores allows and denies, and serves them synchronously', async (t) => {
  const { c } = cache()
  const yes = lookupOf(alice, 'document', '1', 'read')
  const no = lookupOf(alice, 'document', '2', 'read')
  t.equal(c.get(yes), undefined)
  fill(c, yes, true)
  fill(c, no, false)
  t.equal(c.get(yes), true)
  t.equal(c.get(no), false)
  t.same({ hits: c.counters.hits, misses: c.counters.misses, stores: c.counters.stores }, { hits: 2, misses: 1, stores: 2 })
})

t.test('keys keep apart what differs: user, groups, resource, id, privilege, and ids that look alike', async (t) => {
  const { c } = cache()
  const base = lookupOf(alice, 'document', '1', 'read')
  fill(c, base, true)
  const others = [
    lookupOf({ ...alice, id: 'bob' }, 'document', '1', 'read'),
    lookupOf({ ...alice, groups: [] }, 'document', '1', 'read'),
    lookupOf({ ...alice, groups: ['staff', 'x'] }, 'document', '1', 'read'),
    lookupOf({ kind: 'anonymous', id: null, groups: [] }, 'document', '1', 'read'),
    lookupOf(alice, 'documents', '1', 'read'),
    lookupOf(alice, 'document', '11', 'read'),
    lookupOf(alice, 'document', null, 'read'),
    lookupOf(alice, 'document', '1', 'edit'),
    lookupOf({ ...alice, id: 'alice3:doc' }, 'ument', '1', 'read')
  ]
  for (const other of others) {
    t.not(other.key, base.key)
    t.equal(c.get(other), undefined)
  }
  t.equal(new Set(others.map((o) => o.key)).size, others.length)
})

t.test('an answer whose query ran across a change is refused, and one stored before it is not served', async (t) => {
  const { c } = cache()
  const lookup = lookupOf(alice, 'document', '1', 'read')
  const ticket = c.begin(lookup)
  if (ticket === null) throw new Error('off')
  // The revoke lands while the query is in flight.
  localChanges(c).resources([{ resource: 'document', id: '1' }])
  c.store(lookup, ticket, true, 0, null)
  t.equal(c.get(lookup), undefined, 'not stored')
  t.equal(c.counters.refused, 1)

  fill(c, lookup, true)
  t.equal(c.get(lookup), true)
  applyNotification(c, JSON.stringify({ r: [['document', '1']] }))
  t.equal(c.get(lookup), undefined, 'dropped by the notification')
})

t.test('each kind of change reaches exactly what depends on it', async (t) => {
  const { c } = cache()
  const doc1 = lookupOf(alice, 'document', '1', 'read')
  const doc2 = lookupOf(alice, 'document', '2', 'read')
  const note = lookupOf(alice, 'note', '1', 'read')
  const bob = lookupOf({ kind: 'user', id: 'bob', groups: [] }, 'note', '1', 'read')
  const refill = () => { for (const l of [doc1, doc2, note, bob]) fill(c, l, true) }
  const served = () => [doc1, doc2, note, bob].map((l) => c.get(l) !== undefined)

  refill()
  applyNotification(c, JSON.stringify({ r: [['document', '1']] }))
  t.same(served(), [false, true, true, true], 'one resource')
  refill()
  applyNotification(c, JSON.stringify({ r: [['document', null]] }))
  t.same(served(), [false, false, true, true], 'a type-level grant: the type')
  refill()
  applyNotification(c, JSON.stringify({ s: [['group', 'staff']] }))
  t.same(served(), [false, false, false, true], 'a token group reached by a membership change')
  refill()
  applyNotification(c, JSON.stringify({ s: [['user', 'bob']] }))
  t.same(served(), [true, true, true, false], 'a user reached')
  refill()
  localChanges(c).subjects([{ kind: 'group', id: 'anything' }])
  t.same(served(), [false, false, false, false], 'a group changed here: who is below is unknown, everything goes')
  for (const payload of ['{"all":true}', 'not json', '{"r":[["document"]]}', '{"s":[["role","x"]]}', '{}', 'null']) {
    refill()
    applyNotification(c, payload)
    t.same(served(), [false, false, false, false], `anything not understood drops everything: ${payload}`)
  }
})

t.test('an answer lives no longer than its ttl, nor maxAge, measured from when its query was sent', async (t) => {
  const { c, tick, now } = cache({ maxAge: 1000 })
  const short = lookupOf(alice, 'document', '1', 'read')
  const long = lookupOf(alice, 'document', '2', 'read')
  fill(c, short, true, now(), 300)
  fill(c, long, true, now(), null)
  tick(299)
  t.equal(c.get(short), true)
  tick(1)
  t.equal(c.get(short), undefined, 'the grant behind it expired')
  tick(699)
  t.equal(c.get(long), true)
  tick(1)
  t.equal(c.get(long), undefined, 'maxAge')
  const late = lookupOf(alice, 'document', '3', 'read')
  fill(c, late, true, now() - 400, 300)
  t.equal(c.get(late), undefined, 'a slow query spends its own ttl')
  fill(c, late, true, now(), 0)
  t.equal(c.get(late), undefined, 'a change due now is not stored')
})

t.test('off: nothing served, nothing stored, and turning on starts from nothing', async (t) => {
  const { c } = cache()
  const lookup = lookupOf(alice, 'document', '1', 'read')
  fill(c, lookup, true)
  const ticket = c.begin(lookup)
  c.turnOff()
  t.equal(c.get(lookup), undefined)
  t.equal(c.begin(lookup), null)
  c.turnOn()
  t.equal(c.get(lookup), undefined, 'what was there before is gone')
  if (ticket === null) throw new Error('off')
  c.store(lookup, ticket, true, 0, null)
  t.equal(c.get(lookup), undefined, 'a query sent before the feed came back is not kept')
})

t.test('memory stays within maxEntries and maxBytes under a flood of distinct keys', async (t) => {
  const { c } = cache({ maxEntries: 1000, maxBytes: 200_000 })
  for (let i = 0; i < 50_000; i++) fill(c, lookupOf({ kind: 'user', id: `user-${i}`, groups: ['g'] }, 'document', String(i), 'read'), true)
  t.ok(c.size <= 1000, `entries ${c.size}`)
  t.ok(c.bytes <= 200_000, `bytes ${c.bytes}`)
  t.ok(c.counters.evictions >= 49_000)
  const recent = lookupOf({ kind: 'user', id: 'user-49999', groups: ['g'] }, 'document', '49999', 'read')
  t.equal(c.get(recent), true, 'the most recent is kept')
  t.equal(c.get(lookupOf({ kind: 'user', id: 'user-0', groups: ['g'] }, 'document', '0', 'read')), undefined, 'the oldest went first')

  // A hit makes an entry recent again.
  const { c: lru } = cache({ maxEntries: 2 })
  const [a, b, d] = ['a', 'b', 'd'].map((id) => lookupOf(alice, 'document', id, 'read')) as [ReturnType<typeof lookupOf>, ReturnType<typeof lookupOf>, ReturnType<typeof lookupOf>]
  fill(lru, a, true)
  fill(lru, b, true)
  lru.get(a)
  fill(lru, d, true)
  t.equal(lru.get(b), undefined, 'the least recently used went')
  t.equal(lru.get(a), true)

  // So is the record of changed scopes: past its bound, everything starts over.
  const { c: churn } = cache({ maxEntries: 10 })
  const kept = lookupOf(alice, 'document', 'kept', 'read')
  fill(churn, kept, true)
  for (let i = 0; i < 10_001; i++) applyNotification(churn, JSON.stringify({ r: [['document', `x${i}`]] }))
  t.equal(churn.get(kept), undefined, 'dropped when the record of changes overflowed')
})

t.test('evicts the least recently used, whatever the order of stores, hits, restores and changes', async (t) => {
  const fc = (await import('fast-check')).default
  const ids = ['a', 'b', 'c', 'd', 'e']
  const op = fc.record({ kind: fc.constantFrom('fill' as const, 'get' as const, 'change' as const), id: fc.constantFrom(...ids) })
  let evicted = 0
  fc.assert(fc.property(fc.array(op, { minLength: 10, maxLength: 80 }), (ops) => {
    const { c } = cache({ maxEntries: 3 })
    // The model: the ids kept, least recently used first. A change makes an
    // entry stale; it keeps its place until it is read (and then goes) or evicted.
    let kept: Array<{ id: string, stale: boolean }> = []
    const get = (id: string): boolean => {
      const got = c.get(lookupOf(alice, 'document', id, 'read'))
      const held = kept.find((k) => k.id === id)
      kept = kept.filter((k) => k.id !== id)
      if (held !== undefined && !held.stale) kept.push(held)
      return (got === true) === (held !== undefined && !held.stale)
    }
    for (const { kind, id } of ops) {
      if (kind === 'fill') {
        fill(c, lookupOf(alice, 'document', id, 'read'), true)
        kept = [...kept.filter((k) => k.id !== id), { id, stale: false }]
        if (kept.length > 3) {
          kept = kept.slice(-3)
          evicted++
        }
      } else if (kind === 'get') {
        if (!get(id)) return false
      } else {
        c.invalidate([resourceScope('document', id)])
        for (const k of kept) if (k.id === id) k.stale = true
      }
    }
    return ids.every(get)
  }), { seed: 20261207, numRuns: 300 })
  t.ok(evicted > 100, `300 random sequences agree with the model (${evicted} evictions)`)
})
