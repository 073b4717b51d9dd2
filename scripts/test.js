#!/usr/bin/env node
// Runs the test files (tap tests) each in a process of its own, several at a
// time, and reports what tap-parser reads from their output: `npm run
// test:unit [-- FILES OR FOLDERS…]`; `npm test` adds `--typecheck`, which runs
// `npm run typecheck` beside them.
//
// Why not tap's own runner: it starts every test process with its
// process-info hook (for coverage and `--changed`, neither used here) and
// source maps, and tsx adds its own hook; Node 20 runs module hooks on a
// second thread and hands it every one of the some hundreds of modules a test
// file loads. Measured on a small unit file, that start cost 3.3-4.2 s of CPU
// under tap's hook and tsx's, and 1.2-1.7 s as JavaScript with neither, in
// each of some 330 test processes of a CI run. So the TypeScript is compiled
// once per run (compiledTree below) and each file runs as JavaScript. The
// test files are unchanged tap tests, run by the same `tap` library:
// `npx tap FILE` still runs one the usual way.
//
// Environment: TAP_JOBS (files at a time; default: one per core),
// TAP_TIMEOUT (seconds a file may run; default 120, as tap's runner had it).
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, version as esbuildVersion } from 'esbuild'
import { Parser } from 'tap-parser'
import { TapConfig } from '@tapjs/config'
import { signature } from '@tapjs/test'

const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
const TIMEOUT = Number(process.env.TAP_TIMEOUT || 120)
const JOBS = Math.max(1, Number(process.env.TAP_JOBS) || availableParallelism())

/** Every `*.test.ts` under `path`, or `path` itself. */
function testFiles (path) {
  const full = resolve(root, path)
  if (!existsSync(full)) throw new Error(`no such test file or folder: ${path}`)
  if (!statSync(full).isDirectory()) return [full]
  const found = []
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const p = join(full, entry.name)
    if (entry.isDirectory()) found.push(...testFiles(p))
    else if (entry.name.endsWith('.test.ts')) found.push(p)
  }
  return found
}

// The folders whose TypeScript the tests load, compiled once per run (below).
const COMPILED = ['bin', 'examples', 'lib', 'migrations', 'test']
// Kept out of the compiled tree: what git ignores, and the tree's own builds.
const NOT_MIRRORED = new Set(['.git', '.tap', '.test-build', '.test-cli', '.data', '.scratch', 'coverage', 'dist'])
// A test file that must run from its TypeScript sources says so on a line of
// its own, with why (the package tests pack this repository itself).
const FROM_SOURCES = /^\/\/ test runner: from the sources\b/m

/** Every file under `dir`, relative to the repository. */
function filesUnder (dir) {
  const out = []
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(path))
    else out.push(path)
  }
  return out
}

/**
 * The tests' TypeScript compiled to JavaScript once, in a tree beside the
 * repository's own (.test-build/HASH/): compiled modules where the sources
 * are, and a link to every other file, so that a test finds its fixtures,
 * the README and node_modules where it looks for them. Loading TypeScript
 * through tsx costs every test process about a second and a half of CPU
 * measured here: Node 20 runs module hooks on a second thread and hands it
 * every module the process loads, some hundreds per test file. The same
 * compiler tsx uses (esbuild) with source maps, so a failure points at the
 * TypeScript line. Named by a hash of every compiled file and of this
 * script: an edit makes a new tree, and a run never sees a stale one.
 */
async function compiledTree () {
  const sources = COMPILED.flatMap(filesUnder).sort()
  const compiled = sources.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  const hash = createHash('sha256').update(`${esbuildVersion}\0${readFileSync(fileURLToPath(import.meta.url))}\0`)
  for (const f of sources) hash.update(`${f}\0`).update(f.endsWith('.ts') ? readFileSync(join(root, f)) : '').update('\0')
  // The other entries are links, whatever their content; a new one needs a new tree.
  hash.update(readdirSync(root).sort().join('\0'))
  const base = join(root, '.test-build')
  const dir = join(base, hash.digest('hex').slice(0, 20))
  if (existsSync(join(dir, 'package.json'))) {
    // Used again: not one of the old trees another run may clear (below).
    utimesSync(dir, new Date(), new Date())
    return dir
  }
  // Built under a name of its own and renamed into place, as two runs at
  // once may build the same tree.
  const partial = `${dir}.${process.pid}`
  rmSync(partial, { recursive: true, force: true })
  await build({
    entryPoints: compiled.map((f) => join(root, f)),
    outdir: partial,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'error'
  })
  const link = (from) => {
    const at = join(partial, from)
    mkdirSync(dirname(at), { recursive: true })
    symlinkSync(join(root, from), at)
  }
  for (const f of sources) if (!compiled.includes(f) || !existsSync(join(partial, f.replace(/\.ts$/, '.js')))) link(f)
  // The TypeScript beside its JavaScript: tests read some sources as text, and start tsx on others in a child process.
  for (const f of compiled) link(f)
  for (const entry of readdirSync(root)) if (!NOT_MIRRORED.has(entry) && !COMPILED.includes(entry)) link(entry)
  try {
    renameSync(partial, dir)
  } catch (err) {
    if (!existsSync(join(dir, 'package.json'))) throw err
    rmSync(partial, { recursive: true, force: true })
  }
  // Trees of older sources go: a run still using one had an hour to finish.
  for (const old of readdirSync(base)) {
    const path = join(base, old)
    if (path !== dir && Date.now() - statSync(path).mtimeMs > 3600_000) rmSync(path, { recursive: true, force: true })
  }
  return dir
}

/**
 * Counts one file's results from its TAP: every assertion that is not a
 * subtest's own summary, a failed subtest whose failure no assertion inside
 * it shows (a throw, a timeout), and the file itself when its output ends
 * unfinished (a crash, a missing plan).
 */
function count (parser, into) {
  // Set by a subtest's lines, which come before its summary assertion.
  let failuresBeforeSubtest = null
  parser.on('child', (child) => {
    failuresBeforeSubtest = into.fail
    count(child, into)
  })
  parser.on('assert', (result) => {
    if (failuresBeforeSubtest !== null) {
      const failedInside = into.fail - failuresBeforeSubtest
      failuresBeforeSubtest = null
      if (!result.ok && !result.todo && !result.skip && failedInside === 0) {
        into.fail++
        into.failures.push(result)
      }
      return
    }
    if (result.todo) into.todo++
    else if (result.skip) {
      into.skip++
      into.skipped.push(result)
    } else if (result.ok) into.pass++
    else {
      into.fail++
      into.failures.push(result)
    }
  })
}

/** What one file (or the type check) reports, before it has run. */
function emptyResult (name) {
  return { name, pass: 0, fail: 0, skip: 0, todo: 0, failures: [], skipped: [], output: '', stderr: '', ms: 0, exit: null }
}

function runFile (file, tree) {
  return new Promise((done) => {
    const name = relative(root, file).split(sep).join('/')
    const fromSources = tree === null || FROM_SOURCES.test(readFileSync(file, 'utf8'))
    const argv = fromSources ? ['--import=tsx', file] : ['--enable-source-maps', join(tree, relative(root, file)).replace(/\.ts$/, '.js')]
    const started = Date.now()
    const results = emptyResult(name)
    const parser = new Parser({ bail: false })
    count(parser, results)
    let complete = null
    parser.on('complete', (final) => { complete = final })
    const child = spawn(process.execPath, argv, {
      cwd: fromSources ? root : tree,
      env: { ...process.env, TAP_TIMEOUT: String(TIMEOUT), TEST_SHARED_DIR: shared },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk) => { results.output += chunk; parser.write(chunk) })
    child.stderr.on('data', (chunk) => { results.stderr += chunk })
    // tap ends a file that outlives its timeout itself, naming what was
    // pending; this is for a process that cannot (a busy loop, a hung exit).
    // A file that sets its own (t.setTimeout at the top) tells its parent
    // through the IPC channel, as it told tap's runner.
    let killer
    const arm = (ms) => {
      clearTimeout(killer)
      killer = setTimeout(() => {
        results.stderr += `\n# killed: still running ${Math.round((Date.now() - started) / 1000)} s after it started\n`
        child.kill('SIGKILL')
      }, ms + 30_000)
    }
    arm(TIMEOUT * 1000)
    child.on('message', (message) => {
      if (typeof message?.setTimeout === 'number') arm(message.setTimeout)
    })
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      parser.end()
      results.ms = Date.now() - started
      results.exit = signal ?? code
      const finished = complete !== null && complete.ok !== undefined
      if ((code !== 0 || !finished || complete.ok === false) && results.fail === 0) {
        results.fail++
        results.failures.push({ ok: false, name: `the file did not pass as a whole (exit ${results.exit}${finished ? '' : ', its output ended unfinished'})`, diag: null })
      }
      done(results)
    })
  })
}

function report (r, index) {
  const seconds = (r.ms / 1000).toFixed(1)
  const asserts = r.pass + r.fail + r.skip + r.todo
  if (r.fail === 0) {
    console.log(`ok ${index} - ${r.name} # ${asserts} asserts, ${seconds} s`)
  } else {
    console.log(`not ok ${index} - ${r.name} # ${r.fail} failed of ${asserts}, ${seconds} s`)
    for (const f of r.failures) {
      console.log(`  not ok - ${f.fullname !== undefined && f.fullname !== '' ? f.fullname : f.name}`)
      if (f.diag) for (const line of JSON.stringify(f.diag, null, 2).split('\n')) console.log(`    ${line}`)
    }
    // The whole output of a failed file: what tap printed around the failure.
    console.log('  --- output')
    for (const line of r.output.split('\n')) console.log(`  ${line}`)
    if (r.stderr.trim() !== '') {
      console.log('  --- stderr')
      for (const line of r.stderr.split('\n')) console.log(`  ${line}`)
    }
  }
  for (const s of r.skipped) console.log(`  # SKIP ${r.name}: ${s.fullname || s.name}${typeof s.skip === 'string' && s.skip !== '' ? ` (${s.skip})` : ''}`)
}

/**
 * `npm run typecheck`, beside the test files: a test process often waits (on
 * a child process, a timer, the database) and leaves a core idle, which the
 * type check fills. Its errors count as one failure, reported like a file's.
 */
function typecheck () {
  return new Promise((done) => {
    const started = Date.now()
    const r = emptyResult('npm run typecheck')
    const child = spawn('npm', ['run', '--silent', 'typecheck'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.setEncoding('utf8').on('data', (chunk) => { r.output += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk) => { r.stderr += chunk })
    child.on('close', (code) => {
      r.ms = Date.now() - started
      r.exit = code
      if (code === 0) r.pass = 1
      else {
        r.fail = 1
        r.failures.push({ name: `type errors (exit ${code})` })
      }
      done(r)
    })
  })
}

const withTypecheck = process.argv.includes('--typecheck')
// Taken out of argv, in place (tap's configuration below reads the same
// array, and knows no such option).
for (let i = process.argv.length - 1; i >= 0; i--) if (process.argv[i] === '--typecheck') process.argv.splice(i, 1)
const args = process.argv.slice(2)
// The heaviest kinds first, so that the many short unit files fill the end
// of the run, rather than a long file running on while the other workers
// have nothing left (policy-routes, last in plain order, ran 50 s alone).
const KIND_ORDER = ['package', 'policy', 'cli', 'browser', 'embedded', 'integration']
const kindRank = (file) => {
  const rank = KIND_ORDER.indexOf(relative(join(root, 'test'), file).split(sep)[0])
  return rank === -1 ? KIND_ORDER.length : rank
}
const files = [...new Set((args.length > 0 ? args : ['test']).flatMap(testFiles))]
  .sort((a, b) => kindRank(a) - kindRank(b) || (a < b ? -1 : a > b ? 1 : 0))
if (files.length === 0) {
  console.error('no test files')
  process.exit(1)
}

// The tap library a test file imports is built with a set of plugins; a
// fresh install has tap's defaults, among them @tapjs/mock, whose module
// hooks every test process would load. tap's runner rebuilt it for .taprc's
// list on its first run; this one does the same.
if ((await TapConfig.load()).pluginSignature !== signature) {
  console.log('# building tap for the plugins .taprc names (tap build)')
  const built = spawnSync(join(root, 'node_modules', '.bin', 'tap'), ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  if (built.status !== 0) {
    console.error('tap build failed')
    process.exit(1)
  }
}

const started = Date.now()
// A scratch directory the run's test files share (TEST_SHARED_DIR), for what
// several files would otherwise each make the same (the package tests' pack);
// removed when the run ends.
const shared = mkdtempSync(join(tmpdir(), 'fdd-test-run-'))
process.on('exit', () => { rmSync(shared, { recursive: true, force: true }) })
// TEST_FROM_SOURCES=1 runs every file through tsx, as `npx tap` does.
const tree = process.env.TEST_FROM_SOURCES === '1' ? null : await compiledTree()
const totals = { pass: 0, fail: 0, skip: 0, todo: 0, files: 0, failedFiles: [] }
let next = 0
let reported = 0
async function worker () {
  while (next < files.length) {
    const file = files[next++]
    add(await runFile(file, tree))
    totals.files++
  }
}
function add (r) {
  report(r, ++reported)
  totals.pass += r.pass
  totals.fail += r.fail
  totals.skip += r.skip
  totals.todo += r.todo
  if (r.fail > 0) totals.failedFiles.push(r.name)
}
console.log(`# ${files.length} test files, ${Math.min(JOBS, files.length)} at a time${withTypecheck ? ', the type check beside them' : ''}`)
const checked = withTypecheck ? typecheck().then(add) : null
await Promise.all(Array.from({ length: Math.min(JOBS, files.length) }, worker))
await checked

const total = totals.pass + totals.fail + totals.skip + totals.todo
if (totals.failedFiles.length > 0) console.log(`# failed files: ${totals.failedFiles.join(', ')}`)
console.log(`# ${totals.files} files in ${((Date.now() - started) / 1000).toFixed(0)} s`)
// The same closing line tap's runner printed, which .ci/run reads.
console.log(`# { total: ${total}, pass: ${totals.pass}, fail: ${totals.fail}, skip: ${totals.skip}, todo: ${totals.todo} }`)
process.exitCode = totals.fail > 0 ? 1 : 0
