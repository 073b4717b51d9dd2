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
  return new Deadlines(ms).run(work)
}

/** One budget of a `Deadlines` queue; settles once, by its work or by its deadline. */
class Pending implements Budget {
  state: 'running' | 'committing' | 'abandoned' | 'settled' = 'running'
  next: Pending | null = null

  constructor (readonly deadline: number, readonly ms: number, readonly reject: (err: Error) => void) {}

  remaining (): number {
    return Math.max(1, this.deadline - Date.now())
  }

  assertLive (): void {
    if (this.state === 'abandoned' || (this.state === 'running' && Date.now() >= this.deadline)) {
      this.state = 'abandoned'
      throw new DeadlineExceeded(this.ms)
    }
  }

  commit (): void {
    this.assertLive()
    this.state = 'committing'
  }
}

/**
 * Budgets of one fixed length, such as every route check's: deadlines then
 * come due in the order they were set, so one timer on the oldest serves
 * them all, instead of a timer per request.
 */
export class Deadlines {
  readonly #ms: number
  #head: Pending | null = null
  #tail: Pending | null = null
  #timer: NodeJS.Timeout | null = null

  constructor (ms: number) {
    this.#ms = ms
  }

  /** Runs `work` with the queue's time to spend; rejects with `DeadlineExceeded` when it is spent. */
  run<T> (work: (budget: Budget) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending = new Pending(Date.now() + this.#ms, this.#ms, reject)
      if (this.#tail === null) this.#head = pending
      else this.#tail.next = pending
      this.#tail = pending
      if (this.#timer === null) this.#arm()
      work(pending).then(
        (value) => { if (pending.state !== 'abandoned') { pending.state = 'settled'; resolve(value) } },
        (err) => { if (pending.state !== 'abandoned') { pending.state = 'settled'; reject(err) } }
      )
    })
  }

  #arm (): void {
    const head = this.#head
    if (head === null) {
      this.#timer = null
      return
    }
    this.#timer = setTimeout(() => { this.#expire() }, Math.max(0, head.deadline - Date.now()))
    this.#timer.unref()
  }

  #expire (): void {
    const now = Date.now()
    let head = this.#head
    // Settled work leaves its entry behind; it is dropped when it reaches the front.
    while (head !== null && (head.state === 'settled' || head.deadline <= now)) {
      if (head.state === 'running') {
        head.state = 'abandoned'
        head.reject(new DeadlineExceeded(head.ms))
      }
      head = head.next
    }
    this.#head = head
    if (head === null) this.#tail = null
    this.#arm()
  }
}

/**
 * `work`'s answer, or a rejection ("no answer within `ms` ms") when none
 * came in time. The timer's verdict waits one turn of the event loop
 * (setImmediate runs after the loop has read its sockets): when the loop was
 * held past `ms` (a long synchronous task, a pause of the garbage collector),
 * an answer that came in time is already on the socket and is read first. A
 * plain timer (pg's query_timeout, a race with setTimeout) fires before that
 * read, and so took a busy process's healthy connection for a lost one.
 */
export function inTime<T> (work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (!settled) reject(new Error(`no answer within ${ms} ms`))
      })
    }, ms)
    work.then((value) => { settled = true; clearTimeout(timer); resolve(value) }, (err: unknown) => { settled = true; clearTimeout(timer); reject(err) })
  })
}
