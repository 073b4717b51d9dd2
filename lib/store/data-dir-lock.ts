// One process at a time on an embedded data directory, as PostgreSQL's
// postmaster.pid does for a server. PGlite works on its own copy of the
// database in memory and writes the directory back as it goes: two processes
// on one directory each see only their own writes, and whichever writes last
// silently undoes the other's.
//
// The lock is a file holding who took it. It is only ever created whole
// (written aside, then hard-linked into place, which fails if the name is
// taken), so a reader never sees half of one. A lock whose holder is gone is
// taken over under a second lock named after it (see `take`), so that of two
// processes finding the same stale lock only one removes it.
import { randomBytes } from 'node:crypto'
import { readFileSync, unlinkSync } from 'node:fs'
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { codes } from '../errors.js'

/** The lock's name inside the data directory. */
export const LOCK_FILE = 'fastify-default-deny.lock'

/** Who holds a data directory, as the lock file records it. */
export interface LockHolder {
  pid: number
  host: string
  /** When the holder took the lock (ISO 8601). */
  since: string
  /** The process's start in clock ticks after boot (Linux), to tell a reused pid from the holder. */
  started: string | null
  /** The boot the holder ran in (Linux): after a reboot every lock is stale. */
  boot: string | null
  /** This lock's own identity: no two locks share it. */
  nonce: string
}

function readLinux (path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** Field 22 of /proc/<pid>/stat; the command name before it may hold spaces and parentheses. */
function startOf (pid: number): string | null {
  const stat = readLinux(`/proc/${pid}/stat`)
  if (stat === null) return null
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
}

const BOOT = readLinux('/proc/sys/kernel/random/boot_id')?.trim() ?? null

/** Whether the recorded holder may still be running; what cannot be told counts as running. */
function alive (holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true
  if (holder.boot !== null && BOOT !== null && holder.boot !== BOOT) return false
  try {
    process.kill(holder.pid, 0)
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  const started = holder.started === null ? null : startOf(holder.pid)
  return started === null || started === holder.started
}

function parse (text: string): LockHolder | null {
  try {
    const holder = JSON.parse(text) as LockHolder
    return Number.isSafeInteger(holder.pid) && typeof holder.host === 'string' && typeof holder.nonce === 'string' && typeof holder.since === 'string'
      ? { ...holder, started: holder.started ?? null, boot: holder.boot ?? null }
      : null
  } catch {
    return null
  }
}

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code

/** The lock at `path`: undefined when there is none, null when it cannot be read. */
async function read (path: string): Promise<LockHolder | null | undefined> {
  try {
    return parse(await readFile(path, 'utf8'))
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined
    throw err
  }
}

/** Creates `path` holding `holder`, whole, unless it exists. */
async function create (path: string, holder: LockHolder): Promise<boolean> {
  const aside = `${path}.tmp-${randomBytes(8).toString('hex')}`
  await writeFile(aside, JSON.stringify(holder), { flag: 'wx', mode: 0o644 })
  try {
    await link(aside, path)
    return true
  } catch (err) {
    if (errno(err) === 'EEXIST') return false
    throw err
  } finally {
    await unlink(aside).catch(() => {})
  }
}

async function removeIf (path: string, nonce: string): Promise<void> {
  if ((await read(path))?.nonce !== nonce) return
  await unlink(path).catch((err: unknown) => { if (errno(err) !== 'ENOENT') throw err })
}

function lockedError (dir: string, holder: LockHolder | null, path: string): Error {
  const who = holder === null
    ? `a process that left a lock file that cannot be read (${path}: remove it if no process uses the directory)`
    : `process ${holder.pid} on ${holder.host} (since ${holder.since})`
  return new codes.FST_DEFAULT_DENY_DATABASE_LOCKED(dir, who)
}

const isLocked = (err: unknown): boolean => (err as { code?: unknown }).code === 'FST_DEFAULT_DENY_DATABASE_LOCKED'

// Another process taking over the same stale lock finishes within milliseconds.
const TAKEOVER_WAIT_MS = 20
const ATTEMPTS = 50

/**
 * Takes the lock at `path` for `mine`, or throws naming its holder. A stale
 * lock is removed only by whoever creates `<path>.<its nonce>`: the one
 * process that does re-reads the lock and removes it only if it is still
 * that stale one (no one else may remove it meanwhile), then removes the
 * marker. The nonce never comes back, so a latecomer that creates the marker
 * afterwards finds another lock (or none) and removes nothing. A marker whose
 * own taker died is stale in turn, and taken over the same way.
 */
async function take (path: string, mine: LockHolder, dir: string, depth: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if (await create(path, mine)) return
    const holder = await read(path)
    // Released between the two: try again.
    if (holder === undefined && attempt < ATTEMPTS) continue
    if (holder === undefined || holder === null || alive(holder) || depth > 2 || attempt >= ATTEMPTS) throw lockedError(dir, holder ?? null, path)
    const marker = `${path}.${holder.nonce}`
    try {
      await take(marker, mine, dir, depth + 1)
    } catch (err) {
      // Someone else is taking it over: wait for them, then judge their lock.
      if (!isLocked(err)) throw err
      await delay(TAKEOVER_WAIT_MS)
      continue
    }
    try {
      await removeIf(path, holder.nonce)
    } finally {
      await unlink(marker).catch(() => {})
    }
  }
}

// Locks this process holds, released on exit even when nothing closed the database.
const held = new Map<string, string>()
function releaseAllOnExit (): void {
  for (const [path, nonce] of held) {
    try {
      if (parse(readFileSync(path, 'utf8'))?.nonce === nonce) unlinkSync(path)
    } catch {
      // Gone already, or the directory with it: nothing left to release.
    }
  }
}

/**
 * Takes the data directory `dir` (which must exist) for this process, or
 * throws FST_DEFAULT_DENY_DATABASE_LOCKED naming the process that holds it.
 * Returns the release, which is also done on process exit; a process killed
 * outright leaves its lock behind, and the next opener takes it over.
 */
export async function lockDataDir (dir: string): Promise<() => Promise<void>> {
  const absolute = resolve(dir)
  const path = join(absolute, LOCK_FILE)
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    started: startOf(process.pid),
    boot: BOOT,
    nonce: randomBytes(16).toString('hex')
  }
  await take(path, mine, absolute, 0)
  if (held.size === 0) process.on('exit', releaseAllOnExit)
  held.set(path, mine.nonce)
  return async () => {
    if (held.get(path) !== mine.nonce) return
    held.delete(path)
    if (held.size === 0) process.off('exit', releaseAllOnExit)
    await removeIf(path, mine.nonce)
  }
}
