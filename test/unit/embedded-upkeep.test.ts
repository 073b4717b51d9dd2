// When the running plugin vacuums and analyzes the embedded database: after
// UPKEEP_BASE rows plus a tenth of what the tables held at the last upkeep,
// never while the change that crossed the line is still answering, one at a
// time, a failure reported and tried again, a due one finished before close
// returns, and none after. The refresh itself (SQL) is
// test/integration/embedded-upkeep.test.ts's.
import t, { type Test } from 'tap'
import { EmbeddedUpkeep, UPKEEP_BASE, UPKEEP_FRACTION } from '../../lib/store/maintenance.js'

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** An upkeep whose refresh is counted and finished by the test: `finish(rows)` ends the one under way. */
function counted () {
  const calls: Array<{ finish: (rows: number) => void, fail: (err: Error) => void }> = []
  const errors: unknown[] = []
  const upkeep = new EmbeddedUpkeep({
    refresh: async () => await new Promise<number>((resolve, reject) => { calls.push({ finish: resolve, fail: reject }) }),
    onError: (err) => { errors.push(err) }
  })
  return { upkeep, calls, errors }
}

/** `rows - 1` more rows start nothing; one more starts refresh number `next` (which is then finished). */
async function crossesAt (t: Test, { upkeep, calls }: ReturnType<typeof counted>, rows: number, next: number, message: string): Promise<void> {
  upkeep.rows(rows - 1)
  await turn()
  t.equal(calls.length, next - 1, message)
  upkeep.rows(1)
  await turn()
  t.equal(calls.length, next, 'one more row starts it')
  calls[next - 1]?.finish(0)
}

t.test('below the threshold nothing runs; crossing it runs one refresh, after the current turn', async (t) => {
  const counter = counted()
  const { upkeep, calls } = counter
  upkeep.rows(UPKEEP_BASE - 1)
  await turn()
  t.equal(calls.length, 0, `${UPKEEP_BASE - 1} rows: none`)
  upkeep.resources([{ resource: 'document', id: 'd' }])
  t.equal(calls.length, 0, 'not before the change that crossed the line has answered')
  await turn()
  t.equal(calls.length, 1, 'then one')
  upkeep.subjects(Array.from({ length: 5 * UPKEEP_BASE }, () => ({ kind: 'user', id: 'u' })))
  await turn()
  t.equal(calls.length, 1, 'never two at a time')
  calls[0]?.finish(100_000)
  await turn()
  await turn()
  t.equal(calls.length, 1, 'rows counted during one wait for a change after it')
  // The 5,000 rows counted during it count toward the next one.
  await crossesAt(t, counter, UPKEEP_BASE + UPKEEP_FRACTION * 100_000 - 5 * UPKEEP_BASE, 2,
    'the next threshold grows with the tables: a tenth of the 100,000 rows the last one counted')
  await upkeep.close()
})

t.test('a failed refresh is reported, not thrown, and the next crossing tries again', async (t) => {
  const counter = counted()
  const { upkeep, calls, errors } = counter
  upkeep.rows(UPKEEP_BASE)
  await turn()
  calls[0]?.fail(new Error('disk full'))
  await turn()
  await turn()
  t.match(errors, [{ message: 'disk full' }])
  await crossesAt(t, counter, UPKEEP_BASE, 2, 'the failed one used up what was counted')
  await upkeep.close()
})

t.test('close waits for the refresh under way, and nothing runs after it', async (t) => {
  const { upkeep, calls } = counted()
  upkeep.rows(UPKEEP_BASE)
  await turn()
  let closed = false
  const closing = upkeep.close().then(() => { closed = true })
  await turn()
  t.notOk(closed, 'still refreshing')
  calls[0]?.finish(0)
  await closing
  t.ok(closed)
  upkeep.rows(10 * UPKEEP_BASE)
  await turn()
  t.equal(calls.length, 1, 'counted no more')
})

t.test('closed between the crossing and its turn: the refresh still runs, and close waits for it', async (t) => {
  const { upkeep, calls } = counted()
  upkeep.rows(UPKEEP_BASE)
  let closed = false
  const closing = upkeep.close().then(() => { closed = true })
  await turn()
  t.equal(calls.length, 1)
  t.notOk(closed)
  calls[0]?.finish(0)
  await closing
  t.ok(closed)
})
