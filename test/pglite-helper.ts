// A new embedded database starts from a copy of a freshly initialised one
// instead of running initdb again. Creating a PGlite database spends most of
// its time in initdb (seconds per database; on the shared two-core machine up
// to twenty), and the suite creates one or more in nearly every test file: an
// in-memory database per file (helper.ts), a data directory per CLI file
// (cli-helper.ts), and some of its own in a few tests.
//
// PGlite itself creates a database this way: initdb runs in a second instance
// whose data directory is dumped and loaded into the new one. Here the dump is
// made once, by the first test process that needs it, from a database PGlite
// has just created with its defaults, and kept under node_modules/.cache keyed
// by PGlite's version (a new version makes a new one). Nothing is migrated in
// it: every database starts as empty as one the plugin's users create, and
// migrations run in it as they do for them.
//
// Only databases that do not exist yet are affected: an existing data
// directory opens as it is, and a test that loads its own dump keeps it.
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PGlite, type PGliteOptions } from '@electric-sql/pglite'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const PGLITE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string }).version
export const TEMPLATE = join(ROOT, 'node_modules', '.cache', 'fastify-default-deny', `pglite-${PGLITE_VERSION}-initdb.tar`)

const create = PGlite.create.bind(PGlite) as (dataDirOrOptions?: string | PGliteOptions, options?: PGliteOptions) => Promise<PGlite>

/**
 * A dump kept under `file`: read from it, or made by `make` and written there
 * first. Test files starting together may each make theirs: each is written
 * under a name of its own and renamed into place, so every reader sees a
 * whole one.
 */
export async function cachedDump (file: string, make: () => Promise<Blob>): Promise<Blob> {
  if (!existsSync(file)) {
    const dump = await make()
    await mkdir(join(file, '..'), { recursive: true })
    const partial = `${file}.${process.pid}`
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()))
    await rename(partial, file)
  }
  // PGlite reads a dump through arrayBuffer() and its type alone. A Blob
  // would copy the 40 MB twice more (into the Blob, then out of it in
  // chunks): about half a second of CPU per database, in every test file.
  const bytes = await readFile(file)
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  const buffer = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  return { type: 'application/x-tar', arrayBuffer: async () => buffer } as unknown as Blob
}

let template: Promise<Blob> | undefined

/** The dump of a freshly created database: read from the cache, or made and cached. */
function initialised (): Promise<Blob> {
  template ??= cachedDump(TEMPLATE, async () => {
    const pglite = await create()
    try {
      return await pglite.dumpDataDir('none')
    } finally {
      await pglite.close()
    }
  })
  return template
}

/** Whether `dataDir` names a database PGlite would have to create (in memory, or a directory without one). */
function isNew (dataDir: string | undefined): boolean {
  if (dataDir === undefined || dataDir === '' || dataDir.startsWith('memory://')) return true
  if (dataDir.includes('://')) return false
  return !existsSync(join(dataDir, 'PG_VERSION'))
}

// A test's database holds a few thousand rows, but PostgreSQL's default of
// 128 MB of shared buffers is memory PGlite initialises at every start: about
// half a second of CPU and 35,000 page faults per start measured here, paid
// by every test file and by every command of the command-line tests, which
// open their data directory afresh. The tests' tables are small; a larger one
// pages through 16 MB of buffers as on any small server.
// Only the tests' own databases start this way; the plugin's are untouched.
export const TEST_SHARED_BUFFERS = ['-c', 'shared_buffers=16MB']

let installed = false

/**
 * From now on in this process, a database `PGlite.create` has to create
 * starts from the cached dump (lib/store/pglite.ts creates its databases
 * through it).
 */
export function startNewDatabasesFromTemplate (): void {
  if (installed) return
  installed = true
  PGlite.create = (async (dataDirOrOptions?: string | PGliteOptions, options?: PGliteOptions) => {
    const [dataDir, given] = typeof dataDirOrOptions === 'string'
      ? [dataDirOrOptions, options ?? {}]
      : [dataDirOrOptions?.dataDir, dataDirOrOptions ?? {}]
    // PGlite's own initdb instance is created through PGlite.create too (with noInitDb).
    // Appended: of two settings of one parameter, PostgreSQL takes the last.
    const startParams = [...(given.startParams ?? PGlite.defaultStartParams), ...TEST_SHARED_BUFFERS]
    if ((given as { noInitDb?: boolean }).noInitDb === true) return await create(dataDirOrOptions, options)
    if (given.loadDataDir !== undefined) return await create({ ...given, ...(dataDir === undefined ? {} : { dataDir }), startParams })
    if (!isNew(dataDir)) return await create({ ...given, ...(dataDir === undefined ? {} : { dataDir }), startParams })
    return await create({ ...given, ...(dataDir === undefined ? {} : { dataDir }), loadDataDir: await initialised(), startParams })
  }) as typeof PGlite.create
}
