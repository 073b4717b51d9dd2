// The worlds the admin page's views are tested in, one each, shared by the
// HTTP tests (GET /permissions/access/:resource, GET /permissions/resources/
// :resource) and the service API's (access, browse), which must answer alike.
import { build } from './helper.js'

type Teardown = Parameters<typeof build>[0]

/**
 * carol: a direct read on d1, owner of d2, through the stored group staff on
 * d3 and on s1; pub is anonymous; olga manages d1, d2, d3 and pub, not s1.
 */
export async function accessWorld (t: Teardown, options = {}) {
  const built = await build(t, { superuserClaim: 'su', privileges: ['read', 'edit', 'manage'], ...options })
  await built.app.ready()
  const p = built.app.permissions
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'd2', owner: 'carol' })
  await p.addMember({ group: 'staff', member: { kind: 'user', id: 'carol' } })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd3', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd3', privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 's1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'anonymous' }, resource: 'document', id: 'pub', privilege: 'read' })
  for (const id of ['d1', 'd2', 'd3', 'pub']) await p.grant({ grantee: { kind: 'user', id: 'olga' }, resource: 'document', id, privilege: 'manage' })
  return built
}

/** olga owns a1, a2, a%b, a_c, a\d and ab; mia manages m1 (a grant) and owns x9; b1 is known by a grant alone. */
export async function browseWorld (t: Teardown) {
  const built = await build(t, { superuserClaim: 'su', privileges: ['read', 'edit', 'manage'] })
  await built.app.ready()
  const p = built.app.permissions
  for (const id of ['a1', 'a2', 'a%b', 'a_c', 'a\\d', 'ab']) await p.setOwner({ resource: 'document', id, owner: 'olga' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'a1', privilege: 'read' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'a1', privilege: 'edit' })
  await p.grant({ grantee: { kind: 'user', id: 'mia' }, resource: 'document', id: 'm1', privilege: 'manage' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'b1', privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 'x9', owner: 'mia' })
  return built
}

export interface AccessPage {
  all: boolean
  resources: Array<{ id: string, privileges: Array<{ privilege: string, via: Array<{ source: string, typeLevel: boolean, grantee?: unknown }> }> }>
  next: string | null
}

/** The ids of a page, in its order. */
export const ids = (page: { resources: Array<{ id: string }> }) => page.resources.map((r) => r.id)

/** `privilege:source` for everything a page says is held on `id`, sorted. */
export const sources = (page: AccessPage, id: string) =>
  page.resources.find((r) => r.id === id)?.privileges.flatMap((p) => p.via.map((v) => `${p.privilege}:${v.source}`)).sort()
