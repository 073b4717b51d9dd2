// members add/remove/list/of and purge-expired from the command line.
import t from 'tap'
import { cliWorld } from '../cli-helper.js'
import { expireGrantsOf, withoutRevision } from '../helper.js'

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

t.test('nested groups: add, list, of, explain through them, remove', async (t) => {
  const { cli, database } = await cliWorld(t)
  const added = await cli('members', 'add', 'staff', 'group:editors', '--actor', 'ops', '--json')
  t.equal(added.code, 0, added.stderr)
  t.same(withoutRevision(added.json), { database, added: true, group: 'staff', member: { kind: 'group', id: 'editors' } })
  t.match(added.json.revision, LSN)
  t.match((await cli('members', 'add', 'editors', 'user:eve')).stdout, /added user:eve to editors/)
  t.match((await cli('members', 'add', 'editors', 'user:eve')).stdout, /already is a member/)

  const list = await cli('members', 'list', 'staff', '--json')
  t.match(list.json, { group: 'staff', members: [{ group: 'staff', member: { kind: 'group', id: 'editors' }, addedBy: 'ops' }] })
  t.match((await cli('members', 'list', 'editors')).stdout, /^user:eve {2}added \d{4}-/m)
  const of = await cli('members', 'of', 'user:eve', '--json')
  t.same(of.json.groups, [
    { group: 'editors', via: [], source: 'membership' },
    { group: 'staff', via: ['editors'], source: 'membership' }
  ])
  t.match((await cli('members', 'of', 'user:eve')).stdout, /staff {2}via editors {2}\(membership\)/)

  t.equal((await cli('grant', 'group:staff', 'read', 'document', 'd1')).code, 0)
  const why = await cli('explain', 'user:eve', 'document', 'd1', '--privilege', 'read')
  t.match(why.stdout, /via editors/)

  const removed = await cli('members', 'remove', 'editors', 'user:eve', '--json')
  t.same(withoutRevision(removed.json), { database, removed: true, group: 'editors', member: { kind: 'user', id: 'eve' } })
  t.match(removed.json.revision, LSN)
  t.match((await cli('members', 'remove', 'editors', 'user:eve')).stdout, /was not a member/)
  t.equal((await cli('explain', 'user:eve', 'document', 'd1', '--privilege', 'read', '--json')).json.decision, 'deny')
  t.match((await cli('members', 'list', 'editors')).stdout, /editors has no stored member/)
})

t.test('purge-expired deletes what expired, and says how many', async (t) => {
  const { cli, database, withDb, schema } = await cliWorld(t)
  // A grant that has expired cannot be made (it could never count): made for later, then its expiry moved back.
  t.equal((await cli('grant', 'user:old', 'read', 'document', 'd1', '--expires', '2099-01-02')).code, 0)
  await withDb(async (db) => { await expireGrantsOf(db, schema, 'old') })
  t.equal((await cli('grant', 'user:new', 'read', 'document', 'd1', '--expires', '2099-01-01')).code, 0)
  const purged = await cli('purge-expired', '--actor', 'cron', '--batch-size', '10', '--json')
  t.equal(purged.code, 0, purged.stderr)
  t.same(withoutRevision(purged.json), { database, purged: 1 })
  t.match(purged.json.revision, LSN)
  t.match((await cli('purge-expired')).stdout, /purged 0 expired grants/)
  const left = await cli('list', 'document', 'd1', '--json')
  t.same(left.json.grants.map((g: { grantee: { id: string } }) => g.grantee.id), ['new'])
})
