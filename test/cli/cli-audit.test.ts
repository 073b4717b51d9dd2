// audit and verify-audit from the command line: the trail of changes made
// through the tool, its filters and pages, and a chain broken by an edit in
// the database (exit 5, the entry named).
import t from 'tap'
import { sql } from 'kysely'
import { cliWorld } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

const ENTRY_KEYS = ['action', 'actor', 'after', 'at', 'before', 'grantee', 'hash', 'id', 'reason', 'requestId', 'resource', 'schedule', 'seq']

t.test('audit lists the changes, filters and pages them; verify-audit finds an edited entry', async (t) => {
  const world = await cliWorld(t)
  const { cli } = world
  t.equal((await cli('grant', 'user:alice', 'read', 'document', '42', '--actor', 'ops', '--reason', 'ticket 7')).code, 0)
  t.equal((await cli('grant', 'user:bob', 'edit', 'folder', '--type-level', '--actor', 'ops')).code, 0)
  t.equal((await cli('revoke', 'user:alice', 'read', 'document', '42', '--actor', 'olga')).code, 0)

  const all = await cli('audit', '--json')
  t.equal(all.code, 0, all.stderr)
  t.equal(all.json.next, null, 'everything fits in one page')
  t.same(all.json.entries.map((e: { action: string }) => e.action), ['revoke', 'grant', 'grant'], 'newest first')
  t.same(Object.keys(all.json.entries[0]).sort(), ENTRY_KEYS)
  const [revoke, bobGrant, aliceGrant] = all.json.entries
  t.match(aliceGrant, { actor: 'ops', action: 'grant', grantee: { kind: 'user', id: 'alice' }, resource: 'document', id: '42', before: [], after: ['read'], reason: 'ticket 7' })
  t.match(bobGrant, { grantee: { kind: 'user', id: 'bob' }, resource: 'folder', id: null, after: ['edit'] })
  t.match(revoke, { actor: 'olga', action: 'revoke', before: ['read'], after: [] })
  t.ok(BigInt(revoke.seq) > BigInt(bobGrant.seq) && BigInt(bobGrant.seq) > BigInt(aliceGrant.seq), 'seq descends')
  t.ok(!Number.isNaN(Date.parse(revoke.at)), 'at is an instant')

  const seqs = async (...args: string[]) => {
    const out = await cli('audit', ...args, '--json')
    t.equal(out.code, 0, out.stderr)
    return out.json.entries.map((e: { seq: string }) => e.seq)
  }
  t.same(await seqs('document', '42'), [revoke.seq, aliceGrant.seq], 'one resource')
  t.same(await seqs('folder', '--type-level'), [bobGrant.seq], "a type's own entries")
  t.same(await seqs('--grantee', 'user:bob'), [bobGrant.seq], 'one grantee')
  t.same(await seqs('--actor', 'olga'), [revoke.seq], 'one actor')
  t.same(await seqs('--actor', 'ops', 'document', '42'), [aliceGrant.seq], 'an actor on a resource')
  t.same(await seqs('--since', bobGrant.at), [revoke.seq, bobGrant.seq], 'from an instant on')
  t.same(await seqs('--since', '2999-01-01'), [], 'nothing from the future')

  const first = await cli('audit', '--limit', '2', '--json')
  t.same(first.json.entries.map((e: { seq: string }) => e.seq), [revoke.seq, bobGrant.seq])
  t.equal(first.json.next, bobGrant.seq, 'next continues the listing')
  const second = await cli('audit', '--limit', '2', '--before', first.json.next, '--json')
  t.same(second.json.entries.map((e: { seq: string }) => e.seq), [aliceGrant.seq])
  t.equal(second.json.next, null)
  const paged = await cli('audit', '--actor', 'ops', '--limit', '1', '--json')
  t.same(paged.json.entries.map((e: { seq: string }) => e.seq), [bobGrant.seq])
  t.equal(paged.json.next, bobGrant.seq, 'another entry of the actor follows')

  const words = await cli('audit', 'document', '42')
  t.equal(words.code, 0, words.stderr)
  t.match(words.stdout, /^seq +at +actor +action +grantee +on +change +reason$/m, 'a table with a header')
  t.match(words.stdout, new RegExp(`^${aliceGrant.seq} +\\S+ +ops +grant +user:alice +document/42 +- -> read +ticket 7$`, 'm'))
  t.match((await cli('audit', '--limit', '1')).stdout, `(more: add --before ${revoke.seq})`)
  t.match((await cli('audit', '--actor', 'nobody')).stdout, /^no audit entry matches$/m)

  const intact = await cli('verify-audit')
  t.equal(intact.code, 0, intact.stderr)
  t.match(intact.stdout, /audit trail intact: 3 entries verified/)
  t.match((await cli('verify-audit', '--json')).json, { ok: true, entries: 3, brokenAt: null, brokenCount: 0, first: null })

  // An edit only the table's owner can make (the run-time role is refused UPDATE): the chain must show it.
  await world.withDb(async (db) => {
    await sql`update ${sql.table(`${world.schema}.default_deny_audit`)} set actor = 'someone else' where seq = ${bobGrant.seq}`.execute(db)
  })
  const broken = await cli('verify-audit')
  t.equal(broken.code, 5, 'a broken chain exits 5')
  t.match(broken.stdout, new RegExp(`audit trail broken: 1 of 3 entries do not fit; the first is entry ${bobGrant.seq} \\(\\S+ grant folder \\(type-level\\)\\)`))
  t.match(broken.stdout, new RegExp(`entry ${bobGrant.seq}: its content no longer matches its hash \\(edited\\)`))
  const json = await cli('verify-audit', '--json')
  t.equal(json.code, 5)
  t.match(json.json, { ok: false, entries: 3, brokenAt: bobGrant.seq, broken: [{ seq: bobGrant.seq, problem: 'hash' }], brokenCount: 1, first: { seq: bobGrant.seq, actor: 'someone else' } })
})

t.test('bad arguments: exit 2, nothing read or written', async (t) => {
  const { cli } = await cliWorld(t)
  t.equal((await cli('grant', 'user:alice', 'read', 'document', '1', '--actor', 'ops')).code, 0)
  const before = (await cli('audit', '--json')).json

  const cases: Array<{ args: string[], message: RegExp }> = [
    { args: ['audit', 'document'], message: /give the resource id, or --type-level/ },
    { args: ['audit', 'document', '1', '--type-level'], message: /not both/ },
    { args: ['audit', '--type-level'], message: /--type-level needs a resource type/ },
    { args: ['audit', '--grantee', 'robot:x'], message: /--grantee 'robot:x': expected/ },
    { args: ['audit', '--since', 'yesterday'], message: /--since 'yesterday': expected an ISO 8601 date/ },
    { args: ['audit', '--limit', '0'], message: /--limit '0': expected a whole number from 1 to 100000/ },
    { args: ['audit', '--before', 'x'], message: /--before 'x': expected an entry's seq/ },
    { args: ['audit', '--before', '0'], message: /--before '0'/ },
    { args: ['verify-audit', 'now'], message: /too many arguments for 'verify-audit'/ }
  ]
  for (const { args, message } of cases) {
    const out = await cli(...args)
    t.equal(out.code, 2, `${args.join(' ')} exits 2`)
    t.match(out.stderr, message, args.join(' '))
  }
  t.match((await cli('audit', '--limit', 'many', '--json')).json, { error: { exitCode: 2, code: 'usage' } }, 'errors are JSON too with --json')
  t.same((await cli('audit', '--json')).json, before, 'the trail is as it was')
  t.equal((await cli('verify-audit')).code, 0)
})
