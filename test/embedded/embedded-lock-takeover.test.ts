// The data-directory lock in one process: a stale lock taken over by exactly
// one of several openers racing for it, a reused pid told from its holder,
// and the locks that are not taken over (another host, a file that cannot be
// read, this very process).
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LOCK_FILE, lockDataDir } from '../../lib/store/data-dir-lock.js'
import { createPGliteKysely } from '../../lib/store/pglite.js'

interface Teardown { teardown: (fn: () => unknown) => void }

async function scratch (t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dd-lock-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const holderOf = async (dir: string) => JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')) as { pid: number, nonce: string }

/** A lock as a process with this pid left it, started at another time: the pid has been reused since. */
async function staleLock (dir: string): Promise<void> {
  const stale = { pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', started: '1', boot: null, nonce: 'stale' }
  await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale))
}

const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise(setImmediate) }

t.test('of eight openers racing for one stale lock, exactly one takes it; the others are told who has it', async (t) => {
  // Each round starts the openers a few event-loop turns apart, so that
  // each step of one falls between the steps of the others somewhere.
  for (let round = 0; round < 12; round++) {
    const dir = await scratch(t)
    await staleLock(dir)
    const results = await Promise.allSettled(Array.from({ length: 8 }, async (_, i) => {
      await turns((i * (round + 1)) % 13)
      return await lockDataDir(dir)
    }))
    const taken = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    t.equal(taken.length, 1, `round ${round}: one opener holds the directory`)
    for (const { reason } of refused) {
      if (reason.code !== 'FST_DEFAULT_DENY_DATABASE_LOCKED' || !reason.message.includes(`is in use by process ${process.pid} on ${hostname()}`)) t.fail(String(reason))
    }
    t.not((await holderOf(dir)).nonce, 'stale', 'the stale lock is gone')
    t.same(await readdir(dir), [LOCK_FILE], 'no marker or temporary file is left')
    for (const taker of taken) await (taker as PromiseFulfilledResult<() => Promise<void>>).value()
    t.same(await readdir(dir), [], 'released')
  }
})

t.test('a lock from another host is not taken over: its process cannot be seen from here', async (t) => {
  const dir = await scratch(t)
  const other = { pid: 1, host: 'elsewhere.example', since: '2026-01-01T00:00:00.000Z', started: null, boot: null, nonce: 'other' }
  await writeFile(join(dir, LOCK_FILE), JSON.stringify(other))
  await t.rejects(lockDataDir(dir), { code: 'FST_DEFAULT_DENY_DATABASE_LOCKED', message: /in use by process 1 on elsewhere\.example \(since 2026-01-01T00:00:00\.000Z\)/ })
  t.equal((await holderOf(dir)).nonce, 'other', 'left as it was')
})

t.test('a lock file that cannot be read is named, not removed', async (t) => {
  const dir = await scratch(t)
  await writeFile(join(dir, LOCK_FILE), 'not a lock')
  const path = join(dir, LOCK_FILE)
  await t.rejects(lockDataDir(dir), { code: 'FST_DEFAULT_DENY_DATABASE_LOCKED', message: `a lock file that cannot be read (${path}: remove it if no process uses the directory)` })
  t.equal(await readFile(path, 'utf8'), 'not a lock')
})

t.test('one process, one directory, one database: a second open fails until the first is closed', async (t) => {
  const dir = await scratch(t)
  const db = await createPGliteKysely(dir)
  await t.rejects(createPGliteKysely(dir), { code: 'FST_DEFAULT_DENY_DATABASE_LOCKED', message: new RegExp(`in use by process ${process.pid} `) })
  await db.destroy()
  t.notOk((await readdir(dir)).includes(LOCK_FILE), 'destroy() releases it, even for a database no query used')
  const again = await createPGliteKysely(dir)
  t.equal((await holderOf(dir)).pid, process.pid)
  await again.destroy()
})
