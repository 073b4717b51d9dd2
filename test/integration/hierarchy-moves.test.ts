// Recording where a resource lives: setParent, getParent, ancestors,
// children; the closure the triggers keep (through the plugin and through
// plain SQL); and the refusals (type, cycle, depth), each writing nothing.
import t from 'tap'
import { sql, type Kysely } from 'kysely'
import { build } from '../helper.js'
import type { FastifyDefaultDenyOptions } from '../../fastify-plugin.js'

export const HIERARCHY: FastifyDefaultDenyOptions['hierarchy'] = {
  maxDepth: 5,
  types: {
    document: { parents: ['folder', { type: 'project', inherits: ['read', 'edit'] }] },
    folder: { parents: ['folder', 'project'] },
    project: { parents: ['org'] }
  }
}

const at = (resource: string, id: string) => ({ resource, id })

async function app (t: Parameters<typeof build>[0]) {
  const built = await build(t, { hierarchy: HIERARCHY })
  await built.app.ready()
  return built
}

// Every closure row, as `descendant<ancestor@depth edges`, sorted.
async function closure (db: Kysely<any>, schema: string): Promise<string[]> {
  const rows = await db.withSchema(schema).selectFrom('default_deny_resource_ancestor').selectAll().execute()
  return rows.map((r) => `${r.descendant_type}/${r.descendant_id}<${r.ancestor_type}/${r.ancestor_id}@${r.depth} ${(r.edges as string[]).join(',')}`).sort()
}

async function counts (db: Kysely<any>, schema: string) {
  const s = db.withSchema(schema)
  const one = async (table: string) => Number((await s.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n)
  return { resources: await one('default_deny_resource'), closure: await one('default_deny_resource_ancestor'), audit: await one('default_deny_audit') }
}

t.test('setParent records, moves and clears; the reads follow; one audit entry per move, none for a no-op', async (t) => {
  const { app: server, db, schema } = await app(t)
  const p = server.permissions
  const first = await p.setParent(at('project', 'p1'), at('org', 'o1'))
  t.type(first.revision, 'string', 'a write returns a revision')
  await p.setParent(at('folder', 'f1'), at('project', 'p1'))
  await p.setParent(at('folder', 'f2'), at('folder', 'f1'))
  await p.setParent(at('document', 'd9'), at('folder', 'f2'), { actor: 'host', reason: 'filed' })
  t.same(await p.getParent(at('document', 'd9')), at('folder', 'f2'))
  t.same(await p.ancestors(at('document', 'd9')), [
    { ...at('folder', 'f2'), depth: 1 }, { ...at('folder', 'f1'), depth: 2 }, { ...at('project', 'p1'), depth: 3 }, { ...at('org', 'o1'), depth: 4 }
  ])
  t.same(await closure(db, schema), [
    'document/d9<folder/f1@2 document>folder,folder>folder',
    'document/d9<folder/f2@1 document>folder',
    'document/d9<org/o1@4 document>folder,folder>folder,folder>project,project>org',
    'document/d9<project/p1@3 document>folder,folder>folder,folder>project',
    'folder/f1<org/o1@2 folder>project,project>org',
    'folder/f1<project/p1@1 folder>project',
    'folder/f2<folder/f1@1 folder>folder',
    'folder/f2<org/o1@3 folder>folder,folder>project,project>org',
    'folder/f2<project/p1@2 folder>folder,folder>project',
    'project/p1<org/o1@1 project>org'
  ])

  const before = await counts(db, schema)
  await p.setParent(at('document', 'd9'), at('folder', 'f2'))
  t.same(await counts(db, schema), before, 'placing it where it is writes nothing, not even an audit entry')

  // Moving f2 (with d9 below) straight under the project: only the subtree's paths change.
  await p.setParent(at('folder', 'f2'), at('project', 'p1'))
  t.same(await p.ancestors(at('document', 'd9')), [{ ...at('folder', 'f2'), depth: 1 }, { ...at('project', 'p1'), depth: 2 }, { ...at('org', 'o1'), depth: 3 }])
  t.same(await p.ancestors(at('folder', 'f1')), [{ ...at('project', 'p1'), depth: 1 }, { ...at('org', 'o1'), depth: 2 }], 'the old parent keeps its own place')
  const after = await counts(db, schema)
  t.equal(after.audit, before.audit + 1, 'a move of a subtree is one audit entry')
  const [entry] = await p.audit({ resource: at('folder', 'f2'), limit: 1 })
  t.match(entry, { action: 'parent', resource: 'folder', id: 'f2', before: ['folder/f1'], after: ['project/p1'], grantee: null })
  t.same((await p.audit({ resource: at('document', 'd9'), limit: 1 }))[0]?.reason, 'filed', 'the audit entry carries the context')

  // Children: keyset pages ordered by type then id.
  await p.setParent(at('document', 'a'), at('project', 'p1'))
  await p.setParent(at('document', 'b'), at('project', 'p1'))
  const one = await p.children(at('project', 'p1'), { limit: 2 })
  t.same(one.children, [at('document', 'a'), at('document', 'b')])
  t.type(one.next, 'string')
  const two = await p.children(at('project', 'p1'), { after: one.next, limit: 2 })
  t.same(two.children, [at('folder', 'f1'), at('folder', 'f2')])
  const three = await p.children(at('project', 'p1'), { after: two.next, limit: 2 })
  t.same(three, { children: [], next: null })
  await t.rejects(p.children(at('project', 'p1'), { after: 'nonsense' }), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/after' })

  // Clearing: the subtree leaves the tree; a row with neither owner nor parent goes.
  await p.setOwner({ ...at('folder', 'f2'), owner: 'olga' })
  await p.setParent(at('folder', 'f2'), null)
  t.same(await p.ancestors(at('document', 'd9')), [{ ...at('folder', 'f2'), depth: 1 }], 'what is below keeps its place under the cleared resource')
  t.equal(await p.getParent(at('folder', 'f2')), null)
  t.equal(await p.getOwner(at('folder', 'f2')), 'olga', 'the owner stays')
  await p.setParent(at('document', 'a'), null)
  const row = await db.withSchema(schema).selectFrom('default_deny_resource').selectAll().where('resource_id', '=', 'a').execute()
  t.same(row, [], 'a row left with neither owner nor parent is deleted')
  const [cleared] = await p.audit({ resource: at('document', 'a'), limit: 1 })
  t.match(cleared, { action: 'parent', before: ['project/p1'], after: [] })
})

t.test('refusals: a parent type not allowed, a cycle, itself, too deep, no hierarchy; nothing is written', async (t) => {
  const { app: server, db, schema } = await app(t)
  const p = server.permissions
  await p.setParent(at('folder', 'f1'), at('project', 'p1'))
  await p.setParent(at('folder', 'f2'), at('folder', 'f1'))
  await p.setParent(at('folder', 'f3'), at('folder', 'f2'))
  const before = await counts(db, schema)
  const closed = await closure(db, schema)

  await t.rejects(p.setParent(at('document', 'd'), at('org', 'o1')), {
    code: 'FST_DEFAULT_DENY_INVALID_GRANT', statusCode: 400, field: '/parent/resource', message: /a document may be placed under folder, project, not under a org/
  })
  await t.rejects(p.setParent(at('org', 'o1'), at('project', 'p1')), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/resource', message: /a org cannot have a parent/ })
  await t.rejects(p.setParent(at('folder', 'f1'), at('folder', 'f3')), {
    code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/parent', message: /folder "f1" cannot be placed under folder "f3": it would be its own ancestor/
  })
  await t.rejects(p.setParent(at('folder', 'f1'), at('folder', 'f1')), { field: '/parent', message: /its own ancestor/ })
  await t.rejects(p.setParent(at('widget', 'w'), at('folder', 'f1')), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/child/resource' })
  await t.rejects(p.setParent(at('folder', 'f1'), at('folder', '')), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', field: '/parent/id' })

  // maxDepth 5: p1 > f1 > f2 > f3 is 3 levels; f4 under f3 is 4, f5 under f4 is 5; a 6th is refused,
  // and so is moving a subtree whose own depth would carry a path past it.
  await p.setParent(at('folder', 'f4'), at('folder', 'f3'))
  await p.setParent(at('folder', 'f5'), at('folder', 'f4'))
  const deep = await counts(db, schema)
  await t.rejects(p.setParent(at('document', 'd'), at('folder', 'f5')), { field: '/parent', message: /would make a path 6 levels deep; the hierarchy allows 5 \(maxDepth\)/ })
  await p.setParent(at('project', 'p1'), at('org', 'o1')).then(() => t.fail('the subtree is 5 deep already'), (err) => {
    t.match(err, { field: '/parent', message: /6 levels deep/ })
  })
  t.same(await counts(db, schema), deep, 'no row, closure row or audit entry from a refusal')
  await p.setParent(at('folder', 'f5'), null)
  await p.setParent(at('folder', 'f4'), null)
  t.same(await counts(db, schema), { ...before, audit: before.audit + 4 })
  t.same(await closure(db, schema), closed)

  const { app: flat } = await build(t)
  await flat.ready()
  await t.rejects(flat.permissions.setParent(at('document', 'd'), at('folder', 'f')), { code: 'FST_DEFAULT_DENY_INVALID_GRANT', message: /set the hierarchy option/ })
})

t.test('inside a host transaction: a move commits or rolls back with it', async (t) => {
  const { app: server, db } = await app(t)
  const p = server.permissions
  await db.transaction().execute(async (trx) => {
    await p.setParent(at('folder', 'f1'), at('project', 'p1'), { db: trx })
    t.equal((await p.setParent(at('document', 'd1'), at('folder', 'f1'), { db: trx })).revision, null, 'no revision inside the host transaction')
  })
  t.same(await p.getParent(at('document', 'd1')), at('folder', 'f1'))
  await t.rejects(db.transaction().execute(async (trx) => {
    await p.setParent(at('document', 'd1'), at('project', 'p2'), { db: trx })
    t.same(await p.ancestors(at('document', 'd1'), { db: trx }), [{ ...at('project', 'p2'), depth: 1 }], 'seen inside the transaction')
    throw new Error('host failure')
  }), /host failure/)
  t.same(await p.ancestors(at('document', 'd1')), [{ ...at('folder', 'f1'), depth: 1 }, { ...at('project', 'p1'), depth: 2 }], 'the rollback changed nothing')
  t.equal((await p.audit({ resource: at('document', 'd1') })).length, 1, 'and left no audit entry')
})

t.test('plain SQL writes of parents keep the closure right, and refuse a cycle', async (t) => {
  const { db, schema } = await app(t)
  const s = db.withSchema(schema)
  await s.insertInto('default_deny_resource').values([
    { resource_type: 'document', resource_id: 'd', owner_id: null, parent_type: 'folder', parent_id: 'f' },
    { resource_type: 'folder', resource_id: 'f', owner_id: null, parent_type: 'folder', parent_id: 'g' },
    { resource_type: 'folder', resource_id: 'g', owner_id: null, parent_type: 'project', parent_id: 'p' }
  ]).execute()
  const expected = [
    'document/d<folder/f@1 document>folder',
    'document/d<folder/g@2 document>folder,folder>folder',
    'document/d<project/p@3 document>folder,folder>folder,folder>project',
    'folder/f<folder/g@1 folder>folder',
    'folder/f<project/p@2 folder>folder,folder>project',
    'folder/g<project/p@1 folder>project'
  ]
  t.same(await closure(db, schema), expected, 'rows inserted children first still close')
  await s.updateTable('default_deny_resource').set({ parent_type: 'project', parent_id: 'q' }).where('resource_id', '=', 'f').execute()
  t.same(await closure(db, schema), [
    'document/d<folder/f@1 document>folder',
    'document/d<project/q@2 document>folder,folder>project',
    'folder/f<project/q@1 folder>project',
    'folder/g<project/p@1 folder>project'
  ], 'an UPDATE moves the subtree')
  await t.rejects(s.updateTable('default_deny_resource').set({ parent_type: 'document', parent_id: 'd' }).where('resource_id', '=', 'f').execute(),
    /would be its own ancestor/, 'the trigger refuses a cycle')
  await s.deleteFrom('default_deny_resource').where('resource_id', '=', 'f').execute()
  t.same(await closure(db, schema), ['document/d<folder/f@1 document>folder', 'folder/g<project/p@1 folder>project'], 'a DELETE takes the resource out of its tree')
  await sql`truncate ${sql.id(schema, 'default_deny_resource')}`.execute(db)
  t.same(await closure(db, schema), [], 'a TRUNCATE empties the closure')
})
