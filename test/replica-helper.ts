// A hot standby of the DATABASE_URL server for one test file: a base backup
// taken with pg_basebackup (streaming, with the standby settings it writes),
// started with pg_ctl on a free port of 127.0.0.1, stopped and removed at
// teardown. PostgreSQL's server refuses to run as root, so as root the
// server-side commands run as the `postgres` user.
import { execFile } from 'node:child_process'
import { access, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import { formatRevision } from '../lib/revision.js'
import { insertPosition } from '../lib/store/positions.js'
import { postgresKysely } from '../lib/store/postgres.js'
import { ASYNC_COMMIT } from './helper.js'

const run = promisify(execFile)

// A standby receives what the primary has flushed, and these tests measure
// its lag: the primary's commits wait for their WAL here, as on a real server,
// not asynchronously as helper.ts makes them for every other test file.
if (process.env.PGOPTIONS === ASYNC_COMMIT) delete process.env.PGOPTIONS

export interface Standby {
  /** A URL of the standby, for the plugin's `replicas` option. */
  url: string
  /** Stops applying the primary's changes (they still arrive and wait). */
  pauseReplay: () => Promise<void>
  resumeReplay: () => Promise<void>
  /** Resolves once the standby has replayed everything the primary had written when called. */
  caughtUp: () => Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

async function postgresUser (): Promise<{ uid: number, gid: number } | null> {
  if (process.getuid?.() !== 0) return null
  const { stdout: uid } = await run('id', ['-u', 'postgres'])
  const { stdout: gid } = await run('id', ['-g', 'postgres'])
  return { uid: Number(uid), gid: Number(gid) }
}

/** Starts a standby of the server behind DATABASE_URL; it is gone after the test file. */
export async function startStandby (t: Teardown): Promise<Standby> {
  const primary = new URL(process.env.DATABASE_URL as string)
  const { stdout } = await run('pg_config', ['--bindir'])
  const bin = stdout.trim()
  const owner = await postgresUser()
  const as = (command: string, args: string[]) => owner === null
    ? run(join(bin, command), args)
    : run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args])
  const dir = await mkdtemp(join(tmpdir(), 'dd-standby-'))
  if (owner !== null) await chown(dir, owner.uid, owner.gid)
  const data = join(dir, 'data')
  const port = await freePort()
  try {
    await as('pg_basebackup', [
      '-h', primary.hostname, '-p', primary.port === '' ? '5432' : primary.port, '-U', decodeURIComponent(primary.username || 'postgres'),
      '-D', data, '-X', 'stream', '-R', '--no-sync', '-c', 'fast'
    ])
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    const message = String((err as { stderr?: string }).stderr ?? err)
    throw new Error(`pg_basebackup failed; the server must accept replication connections from 127.0.0.1 (pg_hba.conf: "host replication all 127.0.0.1/32 trust", as .ci/run sets up): ${message}`)
  }
  // Some packagings (Debian's) keep the configuration outside the data
  // directory, so the backup has none: the standby gets a minimal one.
  const files: Record<string, string> = {
    'postgresql.conf': '',
    'pg_hba.conf': 'local all all trust\nhost all all 127.0.0.1/32 trust\n',
    'pg_ident.conf': ''
  }
  for (const [name, text] of Object.entries(files)) {
    const path = join(data, name)
    if (await access(path).then(() => true, () => false)) continue
    await writeFile(path, text)
    if (owner !== null) await chown(path, owner.uid, owner.gid)
  }
  // A standby may not have fewer of these than its primary.
  const main = postgresKysely(primary.toString(), { max: 1 })
  t.teardown(async () => { await main.destroy() })
  const { rows: limits } = await sql<{ name: string, setting: string }>`select name, setting from pg_settings where name in
    ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')`.execute(main)
  const settings = [
    `-p ${port}`, "-c listen_addresses='127.0.0.1'", `-c unix_socket_directories='${dir}'`, '-c hot_standby=on',
    '-c fsync=off', '-c shared_buffers=16MB', ...limits.map((l) => `-c ${l.name}=${l.setting}`)
  ].join(' ')
  t.teardown(async () => {
    await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  })
  await as('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'])

  const url = new URL(primary)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  const standby = postgresKysely(url.toString(), { max: 1 })
  t.teardown(async () => { await standby.destroy() })
  return {
    url: url.toString(),
    pauseReplay: async () => { await sql`select pg_wal_replay_pause()`.execute(standby) },
    resumeReplay: async () => { await sql`select pg_wal_replay_resume()`.execute(standby) },
    async caughtUp () {
      const target = formatRevision(await insertPosition(main))
      const until = Date.now() + 10_000
      for (;;) {
        const { rows: done } = await sql<{ ok: boolean }>`select pg_last_wal_replay_lsn() >= ${target}::pg_lsn as ok`.execute(standby)
        if (done[0]?.ok === true) return
        if (Date.now() > until) throw new Error('the standby did not catch up within 10 s')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  }
}
