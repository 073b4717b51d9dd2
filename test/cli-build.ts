// The command-line tool as the CLI tests run it: bin/, lib/ and migrations/
// transpiled from the current sources by TypeScript (no type check: that is
// `npm run typecheck`), one JavaScript file per source file as `npm run build`
// lays them out, run by plain node. Under tsx every command spent most of its
// start in the loader resolving and transforming modules; without it a command
// starts about a second sooner, and the CLI tests run dozens each.
//
// Never stale: the output directory is named by a hash of every source file's
// path and content, the compiler's version and the options, so an edit makes a
// new one. It is written under a temporary name and renamed into place, so
// test files running in parallel share one complete build or make their own.
// It lives inside the repository (.test-cli/, ignored by git) so that the
// compiled files import the packages from node_modules and --version finds
// this package.json, as from bin/ and from dist/bin/.
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type ts from 'typescript'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SOURCES = ['bin', 'lib', 'migrations']
export const BUILDS = join(ROOT, '.test-cli')
// Builds of other sources are removed once this old: a suite still running on them has had time to finish.
const STALE_MS = 60 * 60 * 1000

async function sourceFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map(async (entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return await sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  }))
  return nested.flat().sort()
}

/** tsconfig.json's compiler options, emitting ES modules with a source map for each file. */
function compilerOptions (ts: typeof import('typescript')): ts.CompilerOptions {
  const file = join(ROOT, 'tsconfig.json')
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile)
  if (error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'))
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, file)
  // transpileModule cannot read package.json's "type": the sources are ES modules, so emit them as such.
  return { ...options, module: ts.ModuleKind.ESNext, declaration: false, declarationMap: false, sourceMap: true, inlineSourceMap: false, inlineSources: false, noEmit: false }
}

/** One file's JavaScript, its source map inline and pointing at the .ts file (stack traces, coverage). */
function transpile (ts: typeof import('typescript'), file: string, text: string, options: ts.CompilerOptions): string {
  const { outputText, sourceMapText } = ts.transpileModule(text, { fileName: file, compilerOptions: options, reportDiagnostics: false })
  const map = JSON.parse(sourceMapText as string) as { sources: string[], file?: string }
  map.sources = [pathToFileURL(file).href]
  delete map.file
  const code = outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')
  return `${code}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
}

let built: Promise<string> | undefined

/** The compiled tool's entry point (bin/cli.js in a build of the current sources), built once per process at most. */
export function compiledCli (): Promise<string> {
  built ??= build()
  return built
}

async function build (): Promise<string> {
  const files = (await Promise.all(SOURCES.map(async (dir) => await sourceFiles(join(ROOT, dir))))).flat()
  // What the output depends on: the sources, the compiler and its options, and this file.
  const inputs = [...files, join(ROOT, 'tsconfig.json'), join(ROOT, 'node_modules', 'typescript', 'package.json'), fileURLToPath(import.meta.url)]
  const texts = await Promise.all(inputs.map(async (file) => await readFile(file, 'utf8')))
  const hash = createHash('sha256')
  inputs.forEach((file, i) => hash.update(`${relative(ROOT, file)}\0${texts[i] as string}\0`))
  const dir = join(BUILDS, hash.digest('hex').slice(0, 20))
  const entry = join(dir, 'bin', 'cli.js')
  if (existsSync(entry)) return entry

  // The compiler loads only when there is something to build.
  const { default: ts } = await import('typescript')
  const options = compilerOptions(ts)
  await mkdir(BUILDS, { recursive: true })
  await removeStale(dir)
  const temporary = await mkdtemp(join(BUILDS, 'building-'))
  try {
    await Promise.all(files.map(async (file, i) => {
      const out = join(temporary, relative(ROOT, file)).replace(/\.ts$/, '.js')
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, transpile(ts, file, texts[i] as string, options))
    }))
    await rename(temporary, dir)
  } catch (err) {
    await rm(temporary, { recursive: true, force: true })
    // Another test file built the same sources first: use theirs.
    if (!existsSync(entry)) throw err
  }
  return entry
}

/** Removes builds of other sources, and abandoned partial ones, that no suite can still be running on. */
async function removeStale (keep: string): Promise<void> {
  const now = Date.now()
  for (const name of await readdir(BUILDS)) {
    const path = join(BUILDS, name)
    if (path === keep) continue
    try {
      if (now - (await stat(path)).mtimeMs > STALE_MS) await rm(path, { recursive: true, force: true })
    } catch {
      // Removed meanwhile by another test file.
    }
  }
}
