// A move outside a host transaction rewrites the paths below the moved
// resource in steps (`hierarchy.moveStep`), each its own transaction. A step
// that fails leaves the move recorded: a resource not reached yet decides as
// before the move, never as neither; the next change of the tree, or the
// plugin's next start, finishes it, and a cycle is still refused meanwhile;
// another instance's cache drops what it kept between the steps.
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import t from 'tap'
import { sql, type Kysely } from 'kysely'
import defaultDeny from '../../lib/index.js'
import { readyWith, SECRET, testDatabase } from '../helper.js'
import { cacheOn, eventually } from '../cache-helper.js'

const STEP = 7
const HIERARCHY = { moveStep: STEP, types: { document: { parents: ['folder'] }, folder: { parents: ['folder', 'project'] }, project: { parents: ['org'] } } }
const at = (resource: string, id: string) => ({ resource, id })
const user = (id: string) => ({ kind: 'user' as const, id, groups: [], superuser: false, claims: {} })
const read = (id: string) => ({ resource: 'document', id, privilege: 'read' as const })
const DOCS = Array.from({ length: 40 }, (_, i) => `d${String(i + 1).padStart(2, '0')}`)
const SUB_DOCS = ['s1', 's2', 's3']

async function instance (t: Parameters<typeof testDatabase>[0], db: Kysely<any>, schema: string, extra: Record<string, unknown> = {}) {
  const app = Fastify()
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema, hierarchy: HIERARCHY, resources: ['document', 'folder', 'project', 'org'], ...extra })
  app.get('/d/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => 'ok')
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

// org o1 > projects p1, p2; p1 > folder big > d01..d40 and folder sub > s1..s3;
// p2 > folder f2. alice reads p1, bob reads p2, eve reads both, zed neither.
async function world (t: Parameters<typeof testDatabase>[0], extra: Record<string, unknown> = {}) {
  const { db, schema } = await testDatabase(t)
  const app = await instance(t, db, schema, extra)
  const r = sql.id(schema, 'default_deny_resource')
  await sql`insert into ${r} (resource_type, resource_id, parent_type, parent_id) values
    ('project', 'p1', 'org', 'o1'), ('project', 'p2', 'org', 'o1'), ('project', 'p3', 'org', 'o1'),
    ('folder', 'big', 'project', 'p1'), ('folder', 'f2', 'project', 'p2'), ('folder', 'sub', 'folder', 'big')`.execute(db)
  for (const id of DOCS) await sql`insert into ${r} (resource_type, resource_id, parent_type, parent_id) values ('document', ${id}, 'folder', 'big')`.execute(db)
  for (const id of SUB_DOCS) await sql`insert into ${r} (resource_type, resource_id, parent_type, parent_id) values ('document', ${id}, 'folder', 'sub')`.execute(db)
  const p = app.permissions
  for (const [who, project] of [['alice', 'p1'], ['bob', 'p2'], ['eve', 'p1'], ['eve', 'p2'], ['zed', 'p3']] as const) {
    await p.grant({ grantee: { kind: 'user', id: who }, resource: 'project', id: project, privilege: 'read' })
  }
  return { db, schema, app, p }
}

// Every closure row, and the closure walked from the recorded parents: equal when the closure is whole.
async function closures (db: Kysely<any>, schema: string): Promise<{ kept: string[], walked: string[] }> {
  const c = sql.id(schema, 'default_deny_resource_ancestor')
  const r = sql.id(schema, 'default_deny_resource')
  const kept = await sql<{ row: string }>`select descendant_type || '/' || descendant_id || '<' || ancestor_type || '/' || ancestor_id
    || '@' || depth || ' ' || array_to_string(edges, ',') as row from ${c}`.execute(db)
  const walked = await sql<{ row: string }>`with recursive up (dt, di, at, ai, depth, edges) as (
      select resource_type, resource_id, parent_type, parent_id, 1, array[resource_type || '>' || parent_type] from ${r} where parent_type is not null
      union all
      select u.dt, u.di, p.parent_type, p.parent_id, u.depth + 1, u.edges || (p.resource_type || '>' || p.parent_type)
        from up u join ${r} p on p.resource_type = u.at and p.resource_id = u.ai where p.parent_type is not null)
    select dt || '/' || di || '<' || at || '/' || ai || '@' || depth || ' ' || array_to_string(edges, ',') as row from up`.execute(db)
  return { kept: kept.rows.map((x) => x.row).sort(), walked: walked.rows.map((x) => x.row).sort() }
}

async function recordedMoves (db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await db.withSchema(schema).selectFrom('default_deny_resource_move').selectAll().execute()
  return rows.map((m) => `${m.resource_type}/${m.resource_id}`)
}

// Makes the step that reaches document d30 fail, as a lost connection or a stopped process would.
async function breakStepAt (db: Kysely<any>, schema: string): Promise<() => Promise<void>> {
  const fn = sql.id(schema, 'test_fail_step')
  await sql`create function ${fn} () returns trigger language plpgsql as $f$
    begin raise exception 'step cut short'; end $f$`.execute(db)
  await sql`create trigger test_fail_step before insert on ${sql.id(schema, 'default_deny_resource_ancestor')}
    for each row when (new.descendant_id = 'd30') execute function ${fn}()`.execute(db)
  return async () => {
    await sql`drop trigger test_fail_step on ${sql.id(schema, 'default_deny_resource_ancestor')}`.execute(db)
  }
}

t.test('a move outside a transaction runs in steps, returns once all have run, and leaves the closure whole', async (t) => {
  const { db, schema, p } = await world(t)
  const before = (await p.audit({ resource: at('folder', 'big') })).length
  const moved = await p.setParent(at('folder', 'big'), at('folder', 'f2'))
  t.type(moved.revision, 'string', 'a revision covering every step')
  const { kept, walked } = await closures(db, schema)
  t.same(kept, walked, 'the closure is what the parents say')
  t.same(await recordedMoves(db, schema), [], 'no move left recorded')
  t.equal((await p.audit({ resource: at('folder', 'big') })).length, before + 1, 'one audit entry for the whole move')
  for (const id of [...DOCS, ...SUB_DOCS]) {
    if (await p.check(user('alice'), read(id)) || !await p.check(user('bob'), read(id))) t.fail(`${id} decides as after the move`)
  }
  t.same(await p.ancestors(at('document', 's3')), [
    { ...at('folder', 'sub'), depth: 1 }, { ...at('folder', 'big'), depth: 2 }, { ...at('folder', 'f2'), depth: 3 },
    { ...at('project', 'p2'), depth: 4 }, { ...at('org', 'o1'), depth: 5 }
  ])
})

t.test('a step cut short: what it reached decides as after the move, the rest as before, none as neither; the next change finishes it', async (t) => {
  const { db, schema, app, p } = await world(t)
  const repair = await breakStepAt(db, schema)
  await t.rejects(p.setParent(at('folder', 'big'), at('folder', 'f2')), /step cut short/)
  t.same(await p.getParent(at('folder', 'big')), at('folder', 'f2'), 'the move itself committed')
  t.equal((await p.audit({ resource: at('folder', 'big') })).length, 1, 'with its audit entry')
  t.same(await recordedMoves(db, schema), ['folder/big'], 'and is recorded as not finished')
  // Steps of 7 in key order: d01..d28 were reached, d29 on were not (nor the folder sub and what is in it).
  for (const id of [...DOCS, ...SUB_DOCS]) {
    const reached = id <= 'd28' && id.startsWith('d')
    const [alice, bob, eve, zed] = await Promise.all(['alice', 'bob', 'eve', 'zed'].map(async (who) => await p.check(user(who), read(id))))
    if (alice !== !reached || bob !== reached) t.fail(`${id}: alice ${String(alice)}, bob ${String(bob)}; reached: ${String(reached)}`)
    if (eve !== true || zed !== false) t.fail(`${id}: eve ${String(eve)}, zed ${String(zed)}: an answer neither the old nor the new tree gives`)
  }
  t.pass('every resource below decides as before or as after the move')

  // f2 is a new ancestor of sub, which no step has told yet: placing f2 under
  // sub is a cycle only whole paths show.
  await repair()
  await t.rejects(sql`update ${sql.id(schema, 'default_deny_resource')} set parent_type = 'folder', parent_id = 'sub'
    where resource_type = 'folder' and resource_id = 'f2'`.execute(db), /would be its own ancestor/, 'plain SQL: the trigger finishes the move first, then sees the cycle')
  await t.rejects(p.setParent(at('folder', 'f2'), at('folder', 'sub')), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', message: /own ancestor/ },
    'the service API too')
  t.same(await recordedMoves(db, schema), [], 'the refused move left the finished one finished')
  const { kept, walked } = await closures(db, schema)
  t.same(kept, walked, 'the closure is whole')
  t.notOk(await app.permissions.check(user('alice'), read('s3')), 'and decides as after the move')
})

t.test('a move cut short is finished by the plugin\'s next start', async (t) => {
  const { db, schema, p } = await world(t)
  const repair = await breakStepAt(db, schema)
  await t.rejects(p.setParent(at('folder', 'big'), at('folder', 'f2')), /step cut short/)
  await repair()
  t.same(await recordedMoves(db, schema), ['folder/big'])
  const next = await instance(t, db, schema)
  t.same(await recordedMoves(db, schema), [], 'finished at start')
  const { kept, walked } = await closures(db, schema)
  t.same(kept, walked)
  t.ok(await next.permissions.check(user('bob'), read('d40')))
  t.notOk(await next.permissions.check(user('alice'), read('d40')))
})

t.test('another instance\'s cache drops what it kept between the steps once the move is finished', async (t) => {
  const { db, schema, p } = await world(t, cacheOn())
  const other = await instance(t, db, schema, cacheOn())
  const token = other.jwt.sign({ sub: 'alice' })
  const get = async (id: string) => (await other.inject({ url: `/d/${id}`, headers: { authorization: `Bearer ${token}` } })).statusCode
  const stats = () => other.permissions.cacheStats() as NonNullable<ReturnType<typeof other.permissions.cacheStats>>
  const repair = await breakStepAt(db, schema)
  let heard = stats().invalidations
  await t.rejects(p.setParent(at('folder', 'big'), at('folder', 'f2')), /step cut short/)
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('d40'), 200, 'not reached yet: alice still reads it, and the other instance keeps that answer')
  t.equal(await get('d40'), 200)
  const hits = stats().hits
  t.ok(hits >= 1, 'from its cache')
  await repair()
  heard = stats().invalidations
  // Finished by a third instance's start: no change of its own to announce.
  await instance(t, db, schema)
  t.same(await recordedMoves(db, schema), [], 'finished')
  await eventually(() => stats().invalidations > heard)
  t.equal(await get('d40'), 403, 'the other instance no longer serves the answer it kept')
})

t.test('inside a host transaction a move is whole, with no step left to run', async (t) => {
  const { db, schema, p } = await world(t)
  await db.transaction().execute(async (trx) => {
    await p.setParent(at('folder', 'big'), at('folder', 'f2'), { db: trx })
    t.same(await recordedMoves(trx, schema), [], 'nothing recorded for later')
    t.same((await p.ancestors(at('document', 'd40'), { db: trx })).map((a) => a.id), ['big', 'f2', 'p2', 'o1'])
  })
  const { kept, walked } = await closures(db, schema)
  t.same(kept, walked)
})

t.test('requests beside a move in steps: every answer is one the tree gives before or after it', async (t) => {
  const { db, schema, p } = await world(t)
  let moving = true
  const answers: Array<[string, boolean, boolean]> = []
  const beside = (async () => {
    let i = 0
    while (moving) {
      const id = [...DOCS, ...SUB_DOCS][i++ % (DOCS.length + SUB_DOCS.length)] as string
      answers.push([id, await p.check(user('eve'), read(id)), await p.check(user('zed'), read(id))])
    }
  })()
  await p.setParent(at('folder', 'big'), at('folder', 'f2'))
  moving = false
  await beside
  t.ok(answers.length > 0, `${answers.length} checks ran beside the move`)
  t.same(answers.filter(([, eve, zed]) => !eve || zed), [], 'eve (both projects) always allowed, zed (neither) never')
  const { kept, walked } = await closures(db, schema)
  t.same(kept, walked)
})

t.test('moveStep must be a whole number of resources from 1 to 1,000,000', async (t) => {
  for (const value of [0, 1.5, '10', 1_000_001]) {
    await t.rejects(readyWith(t, { hierarchy: { ...HIERARCHY, moveStep: value } }),
      { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message: /'hierarchy.moveStep' must be an integer from 1 to 1000000/ }, JSON.stringify(value))
  }
})
