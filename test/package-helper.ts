// Packing this package and installing the tarball in a new project, offline,
// as the package tests need it (test/package/package.test.ts,
// test/package/package-testing.test.ts). The project installs from npm's
// cache (which `npm ci` fills): its lockfile is this repository's, cut down
// to what the tarball and the extra packages need, so no version is resolved anew.
import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const KEEP = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry'])
// Neither the test runner's hooks (NODE_OPTIONS), nor `npm test`'s view of this
// repository (npm_*, INIT_CWD), nor the database of the run.
export const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
  KEEP.has(name) || !/^(npm_|_?tapjs|tap_|init_cwd$|node_options$|node_path$|node_env$|database_url$|pglite_dir$)/i.test(name)))

export interface Run { code: number, stdout: string, stderr: string }

/** Runs a command with a time limit; never rejects. */
export function run (command: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...ENV, ...extraEnv }, timeout, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr: err !== null && err.killed ? `timed out after ${timeout} ms\n${stderr}` : stderr })
    })
  })
}

export async function filesUnder (dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (entry) => {
    const path = posix.join(prefix, entry.name)
    return entry.isDirectory() ? await filesUnder(dir, path) : [path]
  }))
  return nested.flat()
}

export interface LockEntry { version: string, dependencies?: Record<string, string>, optionalDependencies?: Record<string, string>, peerDependencies?: Record<string, string>, peerDependenciesMeta?: Record<string, { optional?: boolean }>, [key: string]: unknown }

/** The repository's lockfile entries the project needs, found as Node finds a package: the nearest node_modules up the tree. */
export function lockSubset (packages: Record<string, LockEntry>, roots: string[]): Record<string, LockEntry> {
  const kept: Record<string, LockEntry> = {}
  const queue: string[] = []
  const need = (from: string, name: string, optional: boolean): void => {
    for (let dir = from; ; dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '') {
      const at = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`
      if (packages[at] !== undefined) {
        if (kept[at] === undefined) {
          const { dev, devOptional, peer, ...entry } = packages[at]
          kept[at] = entry as LockEntry
          queue.push(at)
        }
        return
      }
      if (dir === '') break
    }
    if (!optional) throw new Error(`${name}, needed by ${from === '' ? 'the project' : from}, is not in package-lock.json`)
  }
  for (const name of roots) need('', name, false)
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    const entry = kept[at] as LockEntry
    for (const name of Object.keys(entry.dependencies ?? {})) need(at, name, false)
    for (const name of Object.keys(entry.optionalDependencies ?? {})) need(at, name, true)
    for (const name of Object.keys(entry.peerDependencies ?? {})) need(at, name, entry.peerDependenciesMeta?.[name]?.optional === true)
  }
  return kept
}

interface Packed { tarball: string, integrity: string }

async function packInto (dir: string): Promise<Packed> {
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT, {}, 300_000)
  if (packed.code !== 0) throw new Error(`npm pack failed (${packed.code}):\n${packed.stdout}${packed.stderr}`)
  const info = (JSON.parse(packed.stdout) as Array<{ filename: string, integrity: string }>)[0] as { filename: string, integrity: string }
  return { tarball: join(dir, info.filename), integrity: info.integrity }
}

/**
 * `npm pack` of this repository (prepack cleans and builds dist/): the
 * tarball's path and integrity. Under the test runner (scripts/test.js), the
 * package test files of one run share one pack in the run's shared scratch
 * directory (TEST_SHARED_DIR): the first to ask packs, the others wait for
 * it. Two packs at once would also clean and build the same dist/ together.
 * Alone (`npx tap FILE`), a file packs into `dir`.
 */
export async function pack (dir: string): Promise<Packed> {
  const shared = process.env.TEST_SHARED_DIR
  if (shared === undefined || shared === '') return await packInto(dir)
  const own = join(shared, 'pack')
  const result = join(shared, 'pack.json')
  const packer = await mkdir(own).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') return false
    throw err
  })
  if (packer) {
    const outcome = await packInto(own).then((packed) => ({ packed }), (err: Error) => ({ error: err.message }))
    await writeFile(`${result}.${process.pid}`, JSON.stringify(outcome))
    await rename(`${result}.${process.pid}`, result)
    if ('error' in outcome) throw new Error(outcome.error)
    return outcome.packed
  }
  // Another file of this run is packing: its answer, once written (a pack
  // takes tens of seconds; npm pack's own limit bounds the wait).
  for (const started = Date.now(); Date.now() - started < 330_000; await sleep(250)) {
    const text = await readFile(result, 'utf8').catch(() => null)
    if (text === null) continue
    const outcome = JSON.parse(text) as { packed: Packed } | { error: string }
    if ('error' in outcome) throw new Error(`npm pack, run by another test file of this run, failed: ${outcome.error}`)
    return outcome.packed
  }
  throw new Error(`no pack from another test file of this run in ${join(shared, 'pack')} after 330 s`)
}

/** A new project in `project` with the tarball and `extras` (at this repository's versions) installed offline. */
export async function installProject (project: string, { tarball, integrity }: { tarball: string, integrity: string }, extras: string[]): Promise<void> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const dependencies: Record<string, string> = { 'fastify-default-deny': `file:${tarball}` }
  for (const name of extras) dependencies[name] = (lock.packages[`node_modules/${name}`] as LockEntry).version
  const own = { name: 'consumer', version: '1.0.0', private: true, dependencies }
  const packages: Record<string, unknown> = {
    '': { name: own.name, version: own.version, dependencies },
    'node_modules/fastify-default-deny': {
      version: pkg.version, resolved: `file:${tarball}`, integrity, license: pkg.license, dependencies: pkg.dependencies,
      bin: pkg.bin, engines: pkg.engines, peerDependencies: pkg.peerDependencies, peerDependenciesMeta: pkg.peerDependenciesMeta
    },
    ...lockSubset(lock.packages, [...Object.keys(pkg.dependencies), ...extras])
  }
  await mkdir(project, { recursive: true })
  await writeFile(join(project, 'package.json'), JSON.stringify(own, null, 2))
  await writeFile(join(project, 'package-lock.json'), JSON.stringify({ name: own.name, version: own.version, lockfileVersion: 3, requires: true, packages }, null, 2))
  const installed = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], project, {}, 240_000)
  if (installed.code !== 0) throw new Error(`npm ci --offline failed (${installed.code}):\n${installed.stdout}${installed.stderr}`)
}
