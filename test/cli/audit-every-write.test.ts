// Every way to write — each service method, each changing route of the grant
// API, each writing command of the tool — leaves the grant, owner and
// membership tables exactly as its new audit entries say: the rows after a
// call are derived from the rows before it and the entries it appended, and
// compared with what is stored, schedules included. A write that changes
// nothing appends nothing. Schedule-only changes (expiresAt and startsAt
// added, changed, removed) go through each path, and so do parents (set,
// moved, cleared; the import's parent rows).
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { sql, type Kysely } from 'kysely'
import type { AuditEntry } from '../../fastify-plugin.js'
import { AuditLog } from '../../lib/store/audit.js'
import { databaseOf } from '../../lib/store/database.js'
import { build } from '../helper.js'
import { cliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

const GROUP_RESOURCE = 'group'
const DAY = 86_400_000
const at = (days: number) => new Date(Date.now() + days * DAY)

interface Slot { startsAt: number | null, expiresAt: number | null }
interface State {
  grants: Map<string, Slot>
  owners: Map<string, string>
  members: Set<string>
  /** `type|id` → the parent as the audit trail names it, `type/id`. */
  parents: Map<string, string>
}

/** Which type may be placed under which, for the parent writes below. */
const HIERARCHY = { types: { folder: { parents: ['folder'] }, document: { parents: ['folder'] } } }

const grantKey = (kind: string, id: string, resource: string, rid: string | null, privilege: string) =>
  `${kind}:${id}|${resource}|${rid ?? '*'}|${privilege}`
const ms = (value: Date | string | null) => value === null ? null : new Date(value).getTime()

async function stateOf (db: Kysely<any>, schema: string): Promise<State> {
  const s = db.withSchema(schema)
  const grants = await s.selectFrom('default_deny_grant').selectAll().execute()
  const owners = await s.selectFrom('default_deny_resource').selectAll().execute()
  const members = await s.selectFrom('default_deny_membership').selectAll().execute()
  return {
    grants: new Map(grants.map((g) => [grantKey(g.principal_kind, g.principal_id, g.resource_type, g.resource_id, g.privilege), { startsAt: ms(g.starts_at), expiresAt: ms(g.expires_at) }])),
    // An owner set to null leaves a row that holds no owner: the same as none.
    owners: new Map(owners.filter((o) => o.owner_id !== null).map((o) => [`${o.resource_type}|${o.resource_id}`, o.owner_id])),
    members: new Set(members.map((m) => `${m.group_id}|${m.member_kind}:${m.member_id}`)),
    parents: new Map(owners.filter((o) => o.parent_type !== null).map((o) => [`${o.resource_type}|${o.resource_id}`, `${o.parent_type}/${o.parent_id}`]))
  }
}

const plain = (state: State) => ({
  grants: Object.fromEntries([...state.grants].sort(([a], [b]) => a < b ? -1 : 1)),
  owners: Object.fromEntries([...state.owners].sort(([a], [b]) => a < b ? -1 : 1)),
  members: [...state.members].sort(),
  parents: Object.fromEntries([...state.parents].sort(([a], [b]) => a < b ? -1 : 1))
})

/**
 * Applies one audit entry to `model`, first checking that what the entry says
 * was there before is what the model holds. Returns what did not fit.
 */
function apply (model: State, entry: AuditEntry): string[] {
  const problems: string[] = []
  const granteeText = entry.grantee === null ? '' : entry.grantee.kind === 'anonymous' ? 'anonymous:' : `${entry.grantee.kind}:${entry.grantee.id}`
  const on = (privilege: string) => {
    const [kind = '', id = ''] = granteeText.split(':')
    return grantKey(kind, id, entry.resource, entry.id, privilege)
  }
  switch (entry.action) {
    case 'grant': case 'revoke': case 'replace': case 'schedule': case 'purge': {
      if (entry.schedule == null) return [`${entry.seq}: a ${entry.action} without the schedules`]
      const held = [...model.grants].filter(([key]) => key.startsWith(`${granteeText}|${entry.resource}|${entry.id ?? '*'}|`))
      const said = entry.schedule.before.map((g) => [on(g.privilege), { startsAt: ms(g.startsAt), expiresAt: ms(g.expiresAt) }])
      if (JSON.stringify(held.sort()) !== JSON.stringify(said.sort())) problems.push(`${entry.seq}: before ${JSON.stringify(said)}, held ${JSON.stringify(held)}`)
      if (JSON.stringify(entry.schedule.before.map((g) => g.privilege)) !== JSON.stringify(entry.before)) problems.push(`${entry.seq}: before names`)
      if (JSON.stringify(entry.schedule.after.map((g) => g.privilege)) !== JSON.stringify(entry.after)) problems.push(`${entry.seq}: after names`)
      for (const [key] of held) model.grants.delete(key)
      for (const g of entry.schedule.after) model.grants.set(on(g.privilege), { startsAt: ms(g.startsAt), expiresAt: ms(g.expiresAt) })
      if (entry.action === 'schedule' && JSON.stringify(entry.before) !== JSON.stringify(entry.after)) problems.push(`${entry.seq}: a schedule entry that changes privileges`)
      if (entry.action === 'purge' && entry.schedule.before.some((g) => g.expiresAt === null || g.expiresAt > entry.at)) problems.push(`${entry.seq}: purged a grant that had not expired`)
      break
    }
    case 'owner': {
      const key = `${entry.resource}|${entry.id ?? ''}`
      if ((model.owners.get(key) ?? null) !== (entry.before[0] ?? null)) problems.push(`${entry.seq}: owner before`)
      if (entry.after[0] === undefined) model.owners.delete(key)
      else model.owners.set(key, entry.after[0])
      break
    }
    case 'forget': {
      const prefix = `|${entry.resource}|${entry.id ?? '*'}|`
      const held = [...model.grants].filter(([key]) => key.includes(prefix))
      const scheduled = new Map((entry.schedule?.before ?? []).map((g) => [g.privilege, { startsAt: ms(g.startsAt), expiresAt: ms(g.expiresAt) }]))
      const said = entry.before.filter((item) => !item.startsWith('owner:')).map((item) => {
        const [kind = '', id = '', privilege = ''] = item.split(':')
        return [grantKey(kind, id, entry.resource, entry.id, privilege), scheduled.get(item)]
      })
      if (JSON.stringify(held.sort()) !== JSON.stringify(said.sort())) problems.push(`${entry.seq}: forget ${JSON.stringify(said)}, held ${JSON.stringify(held)}`)
      for (const [key] of held) model.grants.delete(key)
      const owner = entry.before.find((item) => item.startsWith('owner:'))
      if ((model.owners.get(`${entry.resource}|${entry.id ?? ''}`) ?? null) !== (owner?.slice('owner:'.length) ?? null)) problems.push(`${entry.seq}: forget owner`)
      model.owners.delete(`${entry.resource}|${entry.id ?? ''}`)
      break
    }
    case 'member': {
      if (entry.grantee === null || entry.grantee.kind === 'anonymous' || entry.resource !== GROUP_RESOURCE) return [`${entry.seq}: a member entry without a member`]
      const key = `${entry.id ?? ''}|${entry.grantee.kind}:${entry.grantee.id}`
      if (model.members.has(key) !== (entry.before[0] === 'member')) problems.push(`${entry.seq}: member before`)
      if (entry.after[0] === 'member') model.members.add(key)
      else model.members.delete(key)
      break
    }
    case 'parent': {
      const key = `${entry.resource}|${entry.id ?? ''}`
      if ((model.parents.get(key) ?? null) !== (entry.before[0] ?? null)) problems.push(`${entry.seq}: parent before ${JSON.stringify(entry.before)}, held ${model.parents.get(key) ?? 'none'}`)
      if (entry.after[0] === undefined) model.parents.delete(key)
      else model.parents.set(key, entry.after[0])
      break
    }
  }
  return problems
}

/** Runs writes on one database, each checked against the audit entries it appended. */
function auditedWrites (t: Test, open: <T>(work: (db: Kysely<any>) => Promise<T>) => Promise<T>, schema: string) {
  const audit = (db: Kysely<any>) => new AuditLog({ db, database: databaseOf(db), schema, groupDepth: 5 })
  const newEntries = async (db: Kysely<any>, after: string | undefined) => {
    const entries: AuditEntry[] = []
    let before: string | undefined
    for (;;) {
      const page = await audit(db).list({ limit: 1000, ...(before === undefined ? {} : { before }) })
      const fresh = page.filter((e) => after === undefined || BigInt(e.seq) > BigInt(after))
      entries.push(...fresh)
      if (page.length < 1000 || fresh.length < page.length) break
      before = page[page.length - 1]?.seq
    }
    return entries.reverse()
  }
  const lastSeq = async (db: Kysely<any>) => (await audit(db).list({ limit: 1 }))[0]?.seq
  // What the last write left, when nothing has written since: the tool's
  // PGlite directory is opened once per write instead of twice.
  let last: { state: State, seq: string | undefined } | null = null
  /** `expect`: how many entries the write appends (0: it changes nothing). */
  async function write<T> (name: string, expect: number, run: () => Promise<T>): Promise<T> {
    const { state: before, seq } = last ?? await open(async (db) => ({ state: await stateOf(db, schema), seq: await lastSeq(db) }))
    const result = await run()
    last = await open(async (db) => {
      const after = await stateOf(db, schema)
      const entries = await newEntries(db, seq)
      t.equal(entries.length, expect, `${name}: ${expect} audit entries`)
      const model: State = { grants: new Map(before.grants), owners: new Map(before.owners), members: new Set(before.members), parents: new Map(before.parents) }
      const problems = entries.flatMap((entry) => apply(model, entry))
      t.same(problems, [], `${name}: each entry describes what was there before it`)
      t.same(plain(after), plain(model), `${name}: the tables are what the entries say`)
      if (expect === 0) t.same(plain(after), plain(before), `${name}: nothing changed`)
      t.equal((await audit(db).verify()).ok, true, `${name}: the chain verifies`)
      return { state: after, seq: entries.at(-1)?.seq ?? seq }
    })
    return result
  }
  /** Something other than a measured write changed the tables. */
  write.forget = () => { last = null }
  return write
}

t.test('the service API: every writing method', async (t) => {
  const { app, db, schema } = await build(t, { hierarchy: HIERARCHY })
  await app.ready()
  const p = app.permissions
  const write = auditedWrites(t, async (work) => await work(db), schema)
  const alice = { kind: 'user', id: 'alice' } as const
  const doc = { resource: 'document', id: 'd1' }
  const e1 = at(2)
  const e2 = at(3)
  const s1 = at(1)

  t.match(await write('grant', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read' })), { created: true, changed: true })
  t.match(await write('grant again, the same', 0, () => p.grant({ ...doc, grantee: alice, privilege: 'read' })), { created: false, changed: false })
  t.match(await write('grant adds expiresAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read', expiresAt: e1 })), { created: false, changed: true })
  await write('the same expiresAt again', 0, () => p.grant({ ...doc, grantee: alice, privilege: 'read', expiresAt: e1 }))
  await write('grant changes expiresAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read', expiresAt: e2 }))
  await write('grant drops expiresAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read' }))
  await write('grant adds startsAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read', startsAt: s1 }))
  const s2 = at(1.5)
  await write('grant changes startsAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read', startsAt: s2 }))
  await write('grant drops startsAt', 1, () => p.grant({ ...doc, grantee: alice, privilege: 'read' }))
  const [entry] = await p.audit({ limit: 1 })
  t.match(entry, {
    action: 'schedule',
    before: ['read'],
    after: ['read'],
    schedule: { before: [{ privilege: 'read', startsAt: s2, expiresAt: null }], after: [{ privilege: 'read', startsAt: null, expiresAt: null }] }
  }, 'a schedule-only entry carries the schedule before and after')

  await write('grantMany: one new, one rescheduled, one the same', 2, () => p.grantMany([
    { ...doc, grantee: alice, privilege: 'edit' },
    { ...doc, grantee: alice, privilege: 'read', expiresAt: e1 },
    { ...doc, grantee: alice, privilege: 'edit' }
  ]))
  await write('grantMany: the same again', 0, () => p.grantMany([{ ...doc, grantee: alice, privilege: 'edit' }]))
  await write('revoke', 1, () => p.revoke({ ...doc, grantee: alice, privilege: 'edit' }))
  await write('revoke what is not held', 0, () => p.revoke({ ...doc, grantee: alice, privilege: 'edit' }))
  await write('replace: add and take', 1, () => p.replace({ ...doc, grantee: alice, privileges: ['edit', 'delete'], expiresAt: e1 }))
  await write('replace: the same', 0, () => p.replace({ ...doc, grantee: alice, privileges: ['edit', 'delete'], expiresAt: e1 }))
  t.match(await write('replace: only the schedule', 1, () => p.replace({ ...doc, grantee: alice, privileges: ['edit', 'delete'], expiresAt: e2, startsAt: s1 })),
    { before: ['delete', 'edit'], after: ['delete', 'edit'] })
  await write('replace: drop both dates', 1, () => p.replace({ ...doc, grantee: alice, privileges: ['edit', 'delete'], expiresAt: null, startsAt: null }))
  await write('anonymous, type-level', 1, () => p.grant({ resource: 'document', id: null, grantee: { kind: 'anonymous' }, privilege: 'read', expiresAt: e1 }))
  await write('setOwner', 1, () => p.setOwner({ ...doc, owner: 'olga' }))
  await write('setOwner, the same', 0, () => p.setOwner({ ...doc, owner: 'olga' }))
  await write('setOwner to someone else', 1, () => p.setOwner({ ...doc, owner: 'oscar' }))
  await write('setOwner to no one', 1, () => p.setOwner({ ...doc, owner: null }))
  await write('setOwner, again', 1, () => p.setOwner({ ...doc, owner: 'olga' }))
  await write('a scheduled grant to forget', 1, () => p.grant({ ...doc, grantee: { kind: 'group', id: 'staff' }, privilege: 'read', startsAt: s1, expiresAt: e1 }))
  await write('forgetResource', 1, () => p.forgetResource(doc))
  await write('forgetResource, nothing left', 0, () => p.forgetResource(doc))

  for (const id of ['p1', 'p2', 'p3']) await p.grant({ resource: 'document', id, grantee: alice, privilege: 'read', expiresAt: e1 })
  write.forget()
  // Expiry in the past cannot be granted: the rows are aged in SQL, before the write measured.
  await sql`update ${sql.id(schema, 'default_deny_grant')} set expires_at = now() - interval '1 minute' where resource_id in ('p1', 'p2')`.execute(db)
  write.forget()
  t.match(await write('purgeExpired, batches of one', 2, () => p.purgeExpired({ batchSize: 1 })), { purged: 2 })
  await write('purgeExpired, nothing expired', 0, () => p.purgeExpired())

  await write('addMember', 1, () => p.addMember({ group: 'staff', member: alice }))
  await write('addMember, again', 0, () => p.addMember({ group: 'staff', member: alice }))
  await write('addMember, a group', 1, () => p.addMember({ group: 'all', member: { kind: 'group', id: 'staff' } }))
  await write('removeMember', 1, () => p.removeMember({ group: 'staff', member: alice }))
  await write('removeMember, not a member', 0, () => p.removeMember({ group: 'staff', member: alice }))

  const f1 = { resource: 'folder', id: 'f1' }
  const f2 = { resource: 'folder', id: 'f2' }
  await write('setParent', 1, () => p.setParent(doc, f1))
  await write('setParent, the same', 0, () => p.setParent(doc, f1))
  await write('setParent of a folder with a child', 1, () => p.setParent(f1, f2))
  await write('setParent moves', 1, () => p.setParent(doc, f2))
  await write('setParent in a transaction that commits', 1, () => db.transaction().execute(async (trx) => await p.setParent(f1, null, { db: trx })))
  await write('setParent refused (a cycle)', 0, () => p.setParent(f2, f2).catch(() => null))
  await write('setParent clears', 1, () => p.setParent(doc, null))
})

t.test('the grant API: every changing route', async (t) => {
  const { app, db, schema, as } = await build(t, { superuserClaim: 'su', hierarchy: HIERARCHY })
  await app.ready()
  const write = auditedWrites(t, async (work) => await work(db), schema)
  await app.permissions.setOwner({ resource: 'document', id: 'd1', owner: 'olga' })
  write.forget()
  const carol = { kind: 'user', id: 'carol' }
  const olga = as('olga')
  const root = as('root', { su: true })
  const call = async (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: object, headers = olga) =>
    await app.inject({ method, url: `/permissions${url}`, headers, ...(payload === undefined ? {} : { payload }) })
  const e1 = at(2).toISOString()
  const e2 = at(3).toISOString()
  const s1 = at(1).toISOString()
  const add = async (body: object) => await call('POST', '/document/d1/grants', { grantee: carol, privilege: 'read', ...body })

  const created = await write('POST grant', 1, () => add({}))
  t.equal(created.statusCode, 201)
  t.same(created.json().changed, ['read'])
  const same = await write('POST the same', 0, () => add({}))
  t.equal(same.statusCode, 200)
  t.same(same.json().changed, [], 'the answer says nothing changed')
  const extended = await write('POST adds expiresAt', 1, () => add({ expiresAt: e1, reason: '48h' }))
  t.equal(extended.statusCode, 200)
  t.same(extended.json(), {
    grantee: carol,
    before: ['read'],
    after: ['read'],
    changed: ['read'],
    schedule: { before: [{ privilege: 'read', startsAt: null, expiresAt: null }], after: [{ privilege: 'read', startsAt: null, expiresAt: e1 }] }
  }, 'the answer carries the schedule before and after')
  await write('POST changes expiresAt', 1, () => add({ expiresAt: e2 }))
  const dropped = await write('POST without expiresAt: it no longer expires', 1, () => add({}))
  t.same(dropped.json().schedule.before, [{ privilege: 'read', startsAt: null, expiresAt: e2 }])
  t.same(dropped.json().changed, ['read'])
  await write('POST adds startsAt', 1, () => add({ startsAt: s1 }))
  await write('POST changes startsAt', 1, () => add({ startsAt: at(1.5).toISOString() }))
  await write('POST drops startsAt', 1, () => add({}))
  const trail = await app.inject({ url: '/permissions/document/d1/audit?limit=1', headers: olga })
  t.match(trail.json().entries[0], {
    action: 'schedule', before: ['read'], after: ['read'], schedule: { after: [{ privilege: 'read', startsAt: null, expiresAt: null }] }
  }, 'the audit route shows the schedules')

  await write('POST anonymous', 1, () => call('POST', '/document/d1/grants', { grantee: { kind: 'anonymous' }, privilege: 'read', expiresAt: e1 }))
  await write('DELETE grant', 1, () => call('DELETE', '/document/d1/grants/user/carol/read?reason=x'))
  await write('DELETE grant, not held', 0, () => call('DELETE', '/document/d1/grants/user/carol/read'))
  await write('DELETE anonymous grant', 1, () => call('DELETE', '/document/d1/grants/anonymous/read'))
  await write('PUT grantee', 1, () => call('PUT', '/document/d1/grantees/user/carol', { privileges: ['read', 'edit'], expiresAt: e1 }))
  await write('PUT grantee, the same', 0, () => call('PUT', '/document/d1/grantees/user/carol', { privileges: ['read', 'edit'], expiresAt: e1 }))
  const rescheduled = await write('PUT grantee, only the schedule', 1, () => call('PUT', '/document/d1/grantees/user/carol', { privileges: ['read', 'edit'], expiresAt: e2, startsAt: s1 }))
  t.same(rescheduled.json().changed, ['edit', 'read'])
  await write('PUT anonymous', 1, () => call('PUT', '/document/d1/grantees/anonymous', { privileges: ['read'] }))
  await write('PUT anonymous, new start', 1, () => call('PUT', '/document/d1/grantees/anonymous', { privileges: ['read'], startsAt: s1 }))
  await write('DELETE grantee', 1, () => call('DELETE', '/document/d1/grantees/user/carol'))
  await write('DELETE anonymous grantee', 1, () => call('DELETE', '/document/d1/grantees/anonymous'))
  await write('DELETE grantee, nothing held', 0, () => call('DELETE', '/document/d1/grantees/user/carol'))

  const set = (grants: object[]) => call('PUT', '/document/d1/grants', { grants, reason: 'whole set' })
  await write('PUT whole set', 2, () => set([{ grantee: carol, privilege: 'read' }, { grantee: { kind: 'group', id: 'staff' }, privilege: 'edit', expiresAt: e1 }]))
  await write('PUT whole set, the same', 0, () => set([{ grantee: carol, privilege: 'read' }, { grantee: { kind: 'group', id: 'staff' }, privilege: 'edit', expiresAt: e1 }]))
  const whole = await write('PUT whole set, schedules only, two per grantee', 2, () => set([
    { grantee: carol, privilege: 'read', startsAt: s1 },
    { grantee: carol, privilege: 'edit', expiresAt: e2 },
    { grantee: { kind: 'group', id: 'staff' }, privilege: 'edit', expiresAt: e2 }
  ]))
  t.same(whole.json().changes.map((c: { changed: string[] }) => c.changed), [['edit', 'read'], ['edit']])

  const bulk = (body: object) => call('POST', '/bulk', body)
  await write('bulk: a new grant, a rescheduled one, a revoke', 3, () => bulk({
    grant: [
      { resource: 'document', id: 'd1', grantee: { kind: 'user', id: 'dave' }, privilege: 'read' },
      { resource: 'document', id: 'd1', grantee: carol, privilege: 'read', expiresAt: e1 }
    ],
    revoke: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'edit' }]
  }))
  await write('bulk: the same again', 0, () => bulk({
    grant: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'read', expiresAt: e1 }],
    revoke: [{ resource: 'document', id: 'd1', grantee: carol, privilege: 'edit' }]
  }))
  await write('PUT owner', 1, () => call('PUT', '/document/d1/owner', { owner: 'oscar' }))
  await write('PUT owner, the same', 0, () => call('PUT', '/document/d1/owner', { owner: 'oscar' }, root))
  await write('PUT member', 1, () => call('PUT', '/groups/staff/members/user/carol', undefined, root))
  await write('PUT member, again', 0, () => call('PUT', '/groups/staff/members/user/carol', undefined, root))
  await write('DELETE member', 1, () => call('DELETE', '/groups/staff/members/user/carol', undefined, root))
  await write('DELETE member, not one', 0, () => call('DELETE', '/groups/staff/members/user/carol', undefined, root))
  await app.permissions.setOwner({ resource: 'folder', id: 'f1', owner: 'olga' })
  write.forget()
  const moved = await write('PUT parent', 1, () => call('PUT', '/document/d1/parent', { parent: { resource: 'folder', id: 'f1' }, reason: 'filing' }, root))
  t.equal(moved.statusCode, 200, moved.body)
  await write('PUT parent, the same', 0, () => call('PUT', '/document/d1/parent', { parent: { resource: 'folder', id: 'f1' } }, root))
  await write('PUT parent refused', 0, () => call('PUT', '/document/d1/parent', { parent: { resource: 'document', id: 'd2' } }, root))
  await write('PUT parent null', 1, () => call('PUT', '/document/d1/parent', { parent: null }, root))
})

t.test('the command-line tool: every writing command', async (t) => {
  const world = await cliWorld(t)
  const write = auditedWrites(t, world.withDb, world.schema)
  const ok = async (...args: string[]) => {
    const out = await world.cli(...args, '--json')
    t.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`)
    return out.json
  }
  const target = ['user:alice', 'read', 'document', 'd1']
  const e1 = at(2).toISOString()
  t.match(await write('grant', 1, () => ok('grant', ...target, '--actor', 'ops')), { created: true, changed: true })
  t.match(await write('grant --expires', 1, () => ok('grant', ...target, '--expires', e1)), { created: false, changed: true })
  t.match(await write('grant --expires, the same', 0, () => ok('grant', ...target, '--expires', e1)), { created: false, changed: false })
  const words = await write('grant without --expires', 1, () => world.cli('grant', ...target))
  t.match(words.stdout, /already granted: read on document\/d1 to user:alice \(schedule changed\)/)
  await write('revoke', 1, () => ok('revoke', ...target))
  await write('members add', 1, () => ok('members', 'add', 'staff', 'user:alice'))
  await write('members remove', 1, () => ok('members', 'remove', 'staff', 'user:alice'))
  const file = join(world.dir, 'grants.csv')
  await writeFile(file, [
    'granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt',
    `user,bob,document,d2,read,ops,,${e1},`,
    'user,bob,document,d3,read,ops,,,'
  ].join('\n') + '\n')
  await write('import', 2, () => ok('import', file))
  await writeFile(file, [
    'granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt',
    'user,bob,document,d2,read,ops,,,',
    'user,bob,document,d3,read,ops,,,'
  ].join('\n') + '\n')
  await write('import again: one schedule changed', 1, () => ok('import', file))
  await world.withDb(async (db) => {
    await sql`update ${sql.id(world.schema, 'default_deny_grant')} set expires_at = now() - interval '1 minute' where resource_id = 'd2'`.execute(db)
  })
  write.forget()
  t.match(await write('purge-expired', 1, () => ok('purge-expired')), { purged: 1 })

  const config = join(world.dir, 'tree.config.mjs')
  await writeFile(config, `export default { resources: ['document', 'folder'], hierarchy: ${JSON.stringify(HIERARCHY)} }\n`)
  const tree = async (...args: string[]) => await ok('--config', config, ...args)
  await write('parent set', 1, () => tree('parent', 'set', 'document:d2', 'folder:f1', '--actor', 'ops'))
  await write('parent set, the same', 0, () => tree('parent', 'set', 'document:d2', 'folder:f1'))
  await write('parent set --clear', 1, () => tree('parent', 'set', 'document:d2', '--clear'))
  const parents = join(world.dir, 'parents.jsonl')
  await writeFile(parents, [
    '{"resource":"document","id":"d3","parent":{"resource":"folder","id":"f2"}}',
    '{"resource":"folder","id":"f2","parent":{"resource":"folder","id":"f1"}}',
    '{"grantee":{"kind":"user","id":"bob"},"resource":"folder","id":"f1","privilege":"read"}'
  ].join('\n') + '\n')
  await write('import with parent rows', 3, () => tree('import', parents))
  await write('import with parent rows, again', 0, () => tree('import', parents))
})
