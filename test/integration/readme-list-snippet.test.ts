// The README's list snippet ("Lists"), run as written: its page and its
// total come back in the same shape on PGlite and on PostgreSQL (a count is
// a bigint, which pg returns as a string unless the query says otherwise).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { sql } from 'kysely'
import { build } from '../helper.js'

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8')

/** The TypeScript block right after the paragraph starting with `heading`, compiled to a function body. */
function listSnippet (heading = '**Lists.**'): string {
  const start = README.indexOf(heading)
  const block = /```ts\n([\s\S]*?)```/.exec(README.slice(start))
  if (start === -1 || block === null) throw new Error('README: no Lists snippet')
  const code = ts.transpileModule(block[1] as string, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
  return `${code}\nreturn { page, total }`
}

t.test("the README's list snippet returns the page and a numeric total", async (t) => {
  const { app, db, schema } = await build(t)
  await app.ready()
  await sql`create table ${sql.id(schema, 'document')} (id text primary key, title text not null)`.execute(db)
  const documents = db.withSchema(schema)
  await documents.insertInto('document').values(['a', 'b', 'c', 'd'].map((id) => ({ id, title: `t-${id}` }))).execute()
  for (const id of ['b', 'c', 'd']) await app.permissions.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id, privilege: 'read' })
  // What a request signed by carol carries.
  const request = { principal: { kind: 'user', id: 'carol', groups: [], superuser: false, claims: { sub: 'carol' } } }

  // eslint-disable-next-line no-new-func
  const run = new Function('app', 'request', 'db', 'after', `return (async () => { ${listSnippet()} })()`) as
    (...args: unknown[]) => Promise<{ page: Array<{ id: string }>, total: unknown }>
  const { page, total } = await run(app, request, documents, 'b')
  t.same(page.map((row) => row.id), ['c', 'd'], 'the keyset page after b, filtered')
  t.equal(total, 3, 'total is the number 3, not the string "3"')

  // eslint-disable-next-line no-new-func
  const held = new Function('app', 'request', 'db', 'after', `return (async () => { ${listSnippet('**Pages read from the grants.**')} })()`) as
    (...args: unknown[]) => Promise<{ page: Array<{ id: string }>, total: unknown }>
  const fromGrants = await held(app, request, documents, 'b')
  t.same(fromGrants.page.map((row) => row.id), ['c', 'd'], 'visible: the same page')
  t.equal(fromGrants.total, 3, 'visible: the same total')
})
