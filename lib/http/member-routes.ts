// The grant API's membership routes: a stored group's members, listed,
// added and removed by whoever may manage the group (the resource
// `{ groupResource, group }`), through the same use cases as the service API.
import type { MemberRef } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import { answer, type GrantApp, type GrantRoutesDeps, type RequestInput } from './grant-input.js'
import { documented } from './route-docs.js'
import type { Received, Schemas } from './schemas.js'

export function memberRoutes (app: GrantApp, { grants, members }: GrantRoutesDeps, s: Schemas, input: RequestInput): void {
  const { check, actorOf, context, reasonOf } = input
  const config = { permission: 'authenticated' as const }

  // Ids that cannot exist (NUL, malformed Unicode) have nothing to manage.
  const groupOf = ({ group }: { group: string }): string => {
    if (!check.id(group)) throw new codes.FST_DEFAULT_DENY_NOT_FOUND()
    return group
  }
  const membershipOf = (params: Received<'memberParams'>): { group: string, member: MemberRef } =>
    input.path.membership(groupOf(params), { kind: params.kind, id: params.member }, { group: '/group', kind: '/kind', id: '/member' })
  // Before and after as for a grant: `['member']` while it is one.
  const change = (group: string, member: MemberRef, was: boolean, is: boolean) =>
    ({ group, member, before: was ? ['member'] : [], after: is ? ['member'] : [] })

  app.get('/groups/:group/members', {
    config,
    schema: { ...documented('listGroupMembers'), params: s.groupParams }
  }, async (request) => {
    const group = groupOf(request.params)
    await grants.mustManage(actorOf(request), members.ref(group))
    const list = await members.list(group)
    return { group, members: list.map((m) => ({ kind: m.member.kind, id: m.member.id, addedBy: m.addedBy, addedAt: m.addedAt })) }
  })

  app.put('/groups/:group/members/:kind/:member', {
    config,
    schema: { ...documented('addGroupMember'), params: s.memberParams, querystring: s.reasonQuery }
  }, async (request, reply) => {
    const { group, member } = membershipOf(request.params)
    const added = answer(reply, await members.add(actorOf(request), group, member, context(request, reasonOf(request))))
    return reply.code(added ? 201 : 200).send(change(group, member, !added, true))
  })

  app.delete('/groups/:group/members/:kind/:member', {
    config,
    schema: { ...documented('removeGroupMember'), params: s.memberParams, querystring: s.reasonQuery }
  }, async (request, reply) => {
    const { group, member } = membershipOf(request.params)
    const removed = answer(reply, await members.remove(actorOf(request), group, member, context(request, reasonOf(request))))
    return change(group, member, removed, false)
  })
}
