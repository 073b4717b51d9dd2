#!/usr/bin/env node
// Builds the admin page (ui/) into the directory the plugin serves it from:
// admin-ui/ in this repository (run by `npm start`, by tap before the tests,
// and by `npm run build:ui`), dist/admin-ui/ in the package (`npm run build`).
// One script bundle and one stylesheet, nothing fetched from anywhere else.
// Each file is replaced by a rename, so a test run reading the directory
// while another rebuilds it never sees half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = resolve(root, process.argv[2] ?? 'admin-ui')
const bundled = await build({
  entryPoints: [join(root, 'ui/src/main.ts')],
  bundle: true,
  write: false,
  format: 'iife',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning'
})
const files = new Map([['app.js', bundled.outputFiles[0].contents]])
for (const name of ['index.html', 'app.css', 'icon.svg']) files.set(name, readFileSync(join(root, 'ui', name)))
mkdirSync(out, { recursive: true })
for (const [name, contents] of files) {
  const temporary = join(out, `.${name}.${process.pid}`)
  writeFileSync(temporary, contents)
  renameSync(temporary, join(out, name))
}
