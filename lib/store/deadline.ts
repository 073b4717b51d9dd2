// A time budget for one unit of database work. The caller gets its answer
// (an error) when the budget runs out, and the work itself learns that it was
// abandoned, so work still queued for a connection never runs and a write
// that has not started to commit rolls back instead of committing after the
// client was told it failed.

export class DeadlineExceeded extends Error {
  constructor (ms: number) {
    super(`database work took longer than ${ms} ms`)
    this.name = 'DeadlineExceeded'
  }
}

export interface Budget {
  /** Milliseconds left (at least 1), for server-side timeouts. */
  remaining: () => number
  /** Throws `DeadlineExceeded` once the budget is spent or the caller was answered. */
  assertLive: () => void
  /**
   * Marks the point of no return (a COMMIT): from here the caller waits for
   * the outcome whatever the time, so a timeout never hides a commit.
   */
  commit: () => void
}

/** A budget that never runs out: for work inside a transaction the host owns. */
export const UNBOUNDED: Budget = Object.freeze({
  remaining: () => 0,
  assertLive: () => {},
  commit: () => {}
})

/** Runs `work` with `ms` to spend; rejects with `DeadlineExceeded` when it is spent. */
export function withBudget<T> (ms: number, work: (budget: Budget) => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms
  let state: 'running' | 'committing' | 'abandoned' = 'running'
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (state !== 'running') return
      state = 'abandoned'
      reject(new DeadlineExceeded(ms))
    }, ms)
    const budget: Budget = {
      remaining: () => Math.max(1, deadline - Date.now()),
      assertLive () {
        if (state === 'abandoned' || (state === 'running' && Date.now() >= deadline)) {
          state = 'abandoned'
          throw new DeadlineExceeded(ms)
        }
      },
      commit () {
        budget.assertLive()
        state = 'committing'
      }
    }
    work(budget).then(
      (value) => { clearTimeout(timer); resolve(value) },
      (err) => { clearTimeout(timer); reject(err) }
    )
  })
}
