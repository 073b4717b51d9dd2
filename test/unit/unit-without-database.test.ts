// test/unit holds what runs without a database, and so the same on both
// backends: a file there that opens one belongs in test/integration, where CI
// runs it on PostgreSQL too. Judged by what each file imports as values: the
// helpers that open a database, the store's two ways to open one, and the
// drivers. Types, and store modules a unit test drives with fakes, open nothing.
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const UNIT = fileURLToPath(new URL('.', import.meta.url))
const OPENS_A_DATABASE = [
  /^\.\.\/(?:[a-z]+-)?helper\.js$/, // test/helper.ts and the *-helper.ts beside it
  /\/lib\/store\/(?:pglite|postgres)\.js$/,
  /^(?:pg|@electric-sql\/pglite)(?:\/|$)/
]

t.test('no file in test/unit imports what opens a database', async (t) => {
  const files = (await readdir(UNIT)).filter((name) => name.endsWith('.ts')).sort()
  const found: string[] = []
  for (const name of files) {
    const text = await readFile(new URL(name, import.meta.url), 'utf8')
    for (const [, specifier] of text.matchAll(/^import\s(?!type\s)[^'"]*['"]([^'"]+)['"]/gm)) {
      if (OPENS_A_DATABASE.some((pattern) => pattern.test(specifier as string))) found.push(`${name}: ${specifier as string}`)
    }
  }
  t.ok(files.length > 0, 'test/unit has files')
  t.same(found, [], 'each of these belongs in test/integration')
})
