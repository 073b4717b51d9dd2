// grant, revoke, list and explain from the command line, in words and as JSON.
import t from 'tap'
import { cliWorld } from '../cli-helper.js'
import { withoutRevision } from '../helper.js'

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

t.test('grant, list (a resource, a type, a grantee), explain, revoke', async (t) => {
  const { cli, database } = await cliWorld(t)

  const granted = await cli('grant', 'user:alice', 'read', 'document', '42', '--actor', 'ops', '--reason', 'ticket 7', '--expires', '2099-01-31', '--json')
  t.equal(granted.code, 0, granted.stderr)
  t.same(withoutRevision(granted.json), {
    database,
    created: true, changed: true, grantee: { kind: 'user', id: 'alice' }, privilege: 'read', resource: 'document', id: '42', expiresAt: '2099-01-31T00:00:00.000Z', startsAt: null
  })
  t.match(granted.json.revision, LSN, 'the change\'s revision, to present on a later request')
  const again = await cli('grant', 'user:alice', 'read', 'document', '42', '--expires', '2099-01-31')
  t.equal(again.code, 0)
  t.match(again.stdout, /already granted: read on document\/42 to user:alice \(unchanged\)/)
  t.match((await cli('grant', 'group:staff', 'read', 'document', '--type-level')).stdout, /granted read on every document \(type-level\) to group:staff/)
  t.equal((await cli('grant', 'anonymous', 'read', 'document', 'public-note')).code, 0)

  const list = await cli('list', 'document', '42', '--json')
  t.equal(list.code, 0, list.stderr)
  t.equal(list.json.owner, null)
  t.match(list.json.grants, [{ grantee: { kind: 'user', id: 'alice' }, privilege: 'read', grantedBy: 'ops', expiresAt: '2099-01-31T00:00:00.000Z', resource: 'document', id: '42' }])
  t.equal(list.json.grants.length, 1)
  t.match((await cli('list', 'document', '42')).stdout, /^user:alice {2}read {2}document\/42 {2}until 2099-01-31T00:00:00.000Z {2}by ops$/m)
  const typeLevel = await cli('list', 'document', '--type-level', '--json')
  t.match(typeLevel.json.grants, [{ grantee: { kind: 'group', id: 'staff' }, id: null }])
  const alice = await cli('list', '--grantee', 'user:alice', '--json')
  t.equal(alice.json.grants.length, 1)
  t.same((await cli('list', 'folder', '--grantee', 'user:alice', '--json')).json.grants, [], 'filtered by resource type')
  t.match((await cli('list', '--grantee', 'user:nobody')).stdout, /user:nobody holds no grant/)

  const allow = await cli('explain', 'user:alice', 'document', '42', '--privilege', 'read', '--json')
  t.equal(allow.code, 0, allow.stderr)
  t.equal(allow.json.decision, 'allow')
  const deny = await cli('explain', 'user:bob', 'document', '42', '--privilege', 'read', '--json')
  t.equal(deny.code, 0, 'a deny is an answer, not a failure')
  t.equal(deny.json.decision, 'deny')
  const staff = await cli('explain', 'user:bob', 'document', '42', '--privilege', 'read', '--group', 'staff')
  t.match(staff.stdout, /read: group group:staff \(type-level\)/)
  t.equal((await cli('explain', 'anonymous', 'document', 'public-note', '--privilege', 'read', '--json')).json.decision, 'allow')

  const revoked = await cli('revoke', 'user:alice', 'read', 'document', '42', '--actor', 'ops', '--json')
  t.same(withoutRevision(revoked.json), { database, removed: true, grantee: { kind: 'user', id: 'alice' }, privilege: 'read', resource: 'document', id: '42' })
  t.match(revoked.json.revision, LSN)
  const nothing = await cli('revoke', 'user:alice', 'read', 'document', '42')
  t.equal(nothing.code, 0)
  t.match(nothing.stdout, /nothing to revoke/)
  t.match((await cli('list', 'document', '42')).stdout, /no grant on document\/42/)
})
