// checkMany through a resource hierarchy answers each id by its own path, in
// one call that mixes every way: a grant on the resource, owning it, a grant
// on an ancestor (through groups, stored and from the token), owning an
// ancestor, an edge that stops the privilege, no parent at all, an id that is
// not stored, and the same id twice. Each answer is the single check's.
import t from 'tap'
import type { HierarchyOptions, Principal, Privilege } from '../../fastify-plugin.js'
import { build } from '../helper.js'

const HIERARCHY: HierarchyOptions = {
  types: {
    document: { parents: ['folder', { type: 'project', inherits: ['read'] }] },
    folder: { parents: ['folder', 'project'] },
    project: { parents: ['org'] }
  }
}
const at = (resource: string, id: string) => ({ resource, id })
const user = (id: string, groups: string[] = []): Principal => ({ kind: 'user', id, groups, superuser: false, claims: {} })

t.test('checkMany answers each id by its own path through the tree, in order, as check does', async (t) => {
  const { app } = await build(t, { hierarchy: HIERARCHY, implies: { manage: ['read', 'edit'], edit: ['read'] } })
  await app.ready()
  const p = app.permissions
  // o1 > p1 > f1 > f2 > {d1, d2}; p1 > d3 (an edge that lets only read pass); p2 > f3 > d4; d5 has no parent.
  await p.setParent(at('project', 'p1'), at('org', 'o1'))
  await p.setParent(at('folder', 'f1'), at('project', 'p1'))
  await p.setParent(at('folder', 'f2'), at('folder', 'f1'))
  await p.setParent(at('document', 'd1'), at('folder', 'f2'))
  await p.setParent(at('document', 'd2'), at('folder', 'f2'))
  await p.setParent(at('document', 'd3'), at('project', 'p1'))
  await p.setParent(at('project', 'p2'), at('org', 'o2'))
  await p.setParent(at('folder', 'f3'), at('project', 'p2'))
  await p.setParent(at('document', 'd4'), at('folder', 'f3'))
  await p.setParent(at('document', 'd6'), at('folder', 'f1'))
  await p.setOwner({ resource: 'document', id: 'd5', owner: 'ann' })
  await p.setOwner({ resource: 'folder', id: 'f3', owner: 'ann' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'project', id: 'p1', privilege: 'manage' })
  await p.grant({ grantee: { kind: 'user', id: 'ann' }, resource: 'document', id: 'd2', privilege: 'read' })
  await p.addMember({ group: 'staff', member: { kind: 'user', id: 'bo' } })

  const ids = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'dx', 'd1', 'f1']
  const cases: Array<[string, Principal, Privilege, boolean[]]> = [
    // staff's manage on p1 reaches d1, d2 and d6 through folders; d3 only for read (its edge lets read pass, not manage).
    ['a token group, manage', user('cy', ['staff']), 'manage', [true, true, false, false, false, true, false, true, false]],
    ['a token group, read', user('cy', ['staff']), 'read', [true, true, true, false, false, true, false, true, false]],
    ['a stored group, read', user('bo'), 'read', [true, true, true, false, false, true, false, true, false]],
    // ann: a direct grant on d2, owns d5, owns f3 above d4.
    ['grants and owners of her own', user('ann'), 'read', [false, true, false, true, true, false, false, false, false]],
    ['someone else', user('dee'), 'read', [false, false, false, false, false, false, false, false, false]]
  ]
  for (const [name, principal, privilege, expected] of cases) {
    const answers = await p.checkMany(principal, { resource: 'document', privilege, ids })
    t.same(answers, expected, name)
    const one = await Promise.all(ids.map(async (id) => await p.check(principal, { resource: 'document', id, privilege })))
    t.same(answers, one, `${name}: as check answers`)
  }
  // Many ids, most unknown: answers stay in order, one per id.
  const many = Array.from({ length: 500 }, (_, i) => i % 100 === 7 ? 'd1' : `n${i}`)
  t.same(await p.checkMany(user('cy', ['staff']), { resource: 'document', privilege: 'read', ids: many }), many.map((id) => id === 'd1'))
})
