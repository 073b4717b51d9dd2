// What the grant API says about itself in an OpenAPI document: for each
// operation its id, tag, summary, description, answers and the refusals it
// can really give, so that a client generator gets no status that cannot
// happen and misses none that can. Every route needs a verified user.
import { ref, type SharedName } from './shared-schemas.js'

type Status = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 503
type Kind = 'read' | 'change'

interface Operation {
  tag: 'grants' | 'explain' | 'audit' | 'members' | 'hierarchy' | 'access'
  kind: Kind
  summary: string
  description: string
  ok: Partial<Record<200 | 201, [SharedName, string]>>
  errors: readonly Status[]
}

// Every route: a token (401), a grant or rule that allows it (403), a
// database that answers (503). A request with path ids, a query or a body can
// be malformed (400); one naming a resource can meet hideForbidden or an id
// that cannot exist (404); one that may remove a manager can meet the last-
// manager guard (409); one with a body can be too large or of another type
// (413, 415); one that adds privileges meets the eligibility checks, and a
// membership change the limit on what it reaches (422).
// Fastify parses a body sent with any method but GET and HEAD, so a route
// that takes none can still answer 413 or 415, but only to a client sending
// a body the document says it does not take: those are left out.
const READ = [400, 401, 403, 404, 503] as const
const CHANGE = [400, 401, 403, 404, 409, 503] as const
const ADD = [400, 401, 403, 404, 409, 413, 415, 422, 503] as const
const MEMBER_CHANGE = [400, 401, 403, 404, 422, 503] as const

// Some refusals read differently for a read and a change; the rest only
// happen to changes.
const ERRORS: Record<Status, string | Record<Kind, string>> = {
  400: {
    read: 'Invalid request (FST_DEFAULT_DENY_INVALID_REQUEST): a parameter of the wrong type, out of bounds or unknown, or an unknown resource type. The message names the parameter and the rule; field and in say where it is',
    change: 'Invalid request (FST_DEFAULT_DENY_INVALID_REQUEST), such as a wrong type, an extra property, an unknown privilege or resource type, a past expiresAt or a reason with NUL or a lone surrogate; or a malformed JSON body. The message names the field and the rule; field and in say where it is. Nothing is written'
  },
  401: {
    read: 'No valid token (FST_DEFAULT_DENY_UNAUTHORIZED)',
    change: 'No valid token (FST_DEFAULT_DENY_UNAUTHORIZED), or, with step-up covering manage, a token without the second factor (FST_DEFAULT_DENY_STEP_UP_REQUIRED, with a WWW-Authenticate challenge)'
  },
  403: {
    read: 'The caller may not do this (FST_DEFAULT_DENY_FORBIDDEN), or an endpoint rule refused the request',
    change: 'The caller does not manage the resource (FST_DEFAULT_DENY_FORBIDDEN); or would change a privilege it does not hold, or take ownership (FST_DEFAULT_DENY_ESCALATION); or an endpoint rule refused the request. Nothing is written'
  },
  404: {
    read: 'Forbidden with hideForbidden on, or an id no resource can have (FST_DEFAULT_DENY_NOT_FOUND)',
    change: 'Forbidden with hideForbidden on, an id no resource can have, or a resource resourceExists does not know (FST_DEFAULT_DENY_NOT_FOUND). Nothing is written'
  },
  409: 'The change would leave the resource without an owner or manager (FST_DEFAULT_DENY_LAST_MANAGER). Nothing is written',
  413: 'The body is larger than the route allows',
  415: 'The body is not application/json',
  422: 'The grantee may not hold that privilege (FST_DEFAULT_DENY_INELIGIBLE), or a membership change reaches more member-group pairs than maxMembershipChange allows (FST_DEFAULT_DENY_MEMBERSHIP_LIMIT). Nothing is written',
  503: {
    read: 'Authorization is unavailable (FST_DEFAULT_DENY_UNAVAILABLE: the database failed or was too slow), or the endpoint rules lock the service out',
    change: 'The change did not finish (FST_DEFAULT_DENY_UNAVAILABLE: the database failed, or writeTimeout passed) and was rolled back; or the endpoint rules lock the service out'
  }
}

const MANAGERS = 'Only the resource\'s owner, a superuser or a holder of manage on it may call this.'
const NO_ESCALATION = 'A manager who is not the owner or a superuser may change only privileges it holds itself.'

const OPERATIONS = {
  listGrants: {
    tag: 'grants', kind: 'read', summary: "List a resource's grants", errors: READ,
    description: `The owner and the unexpired grants on the resource, scheduled ones included. ${MANAGERS}`,
    ok: { 200: ['GrantList', 'The owner and the grants'] }
  },
  addGrant: {
    tag: 'grants', kind: 'change', summary: 'Grant a privilege', errors: ADD,
    description: `Grants one privilege to a user, a group or the anonymous principal, optionally from startsAt until expiresAt. Idempotent. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 201: ['Change', 'Granted'], 200: ['Change', 'The grantee already held it: its schedule changed (`changed` names it, audited) or nothing changed (`changed` is empty)'] }
  },
  revokeGrant: {
    tag: 'grants', kind: 'change', summary: 'Revoke a privilege from a user or group', errors: CHANGE,
    description: `Takes one privilege from the user or group; revoking one it does not hold changes nothing. The reason query parameter goes to the audit trail. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  revokeAnonymousGrant: {
    tag: 'grants', kind: 'change', summary: 'Revoke a privilege from the anonymous principal', errors: CHANGE,
    description: `Takes one privilege from the anonymous principal. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  setGranteePrivileges: {
    tag: 'grants', kind: 'change', summary: "Set a user's or group's privileges", errors: ADD,
    description: `The user or group then holds exactly these privileges on the resource, atomically. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  setAnonymousPrivileges: {
    tag: 'grants', kind: 'change', summary: "Set the anonymous principal's privileges", errors: ADD,
    description: `The anonymous principal then holds exactly these privileges on the resource (only anonymousPrivileges are allowed). ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  revokeGrantee: {
    tag: 'grants', kind: 'change', summary: 'Revoke everything a user or group holds', errors: CHANGE,
    description: `Takes every explicit privilege the user or group holds on the resource. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  revokeAnonymous: {
    tag: 'grants', kind: 'change', summary: 'Revoke everything the anonymous principal holds', errors: CHANGE,
    description: `Takes every explicit privilege the anonymous principal holds on the resource. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  replaceGrants: {
    tag: 'grants', kind: 'change', summary: "Replace a resource's whole grant set", errors: ADD,
    description: `Makes the explicit grants on the resource exactly these, in one transaction: grantees not named lose everything. ${MANAGERS} ${NO_ESCALATION}`,
    ok: { 200: ['ChangeList', 'The grantees whose privileges changed'] }
  },
  bulkChangeGrants: {
    tag: 'grants', kind: 'change', summary: 'Grant and revoke on many resources at once', errors: ADD,
    description: `Many grants and revokes, all or nothing: one forbidden item and nothing is written. The caller must manage every resource named. ${NO_ESCALATION}`,
    ok: { 200: ['ChangeList', 'One change per item, grants first'] }
  },
  setOwner: {
    tag: 'grants', kind: 'change', summary: "Set a resource's owner", errors: [400, 401, 403, 404, 409, 413, 415, 503],
    description: 'Hands the resource to another owner, or to none (null). Only its owner or a superuser may call this.',
    ok: { 200: ['OwnerChange', 'The owner now and before'] }
  },
  setParent: {
    tag: 'hierarchy', kind: 'change', summary: "Set or clear a resource's parent", errors: [400, 401, 403, 404, 413, 415, 503],
    description: 'Places the resource under another (the hierarchy option says which types may be under which), moves it, or with null takes it out of its tree. Grants on an ancestor, and its ownership, count on everything below it. The caller must manage the resource and the new parent (rights held through ancestors count): moving something into a place one does not manage is forbidden. A parent type the option does not allow, a cycle or a tree deeper than maxDepth is a 400 naming /parent. One audit entry (action parent), whatever the size of the moved subtree; the default-deny-revision header says how fresh a later request must demand to see it.',
    ok: { 200: ['ParentChange', 'The parent now and before'] }
  },
  listAncestors: {
    tag: 'hierarchy', kind: 'read', summary: "List a resource's ancestors", errors: READ,
    description: `Every ancestor of the resource, nearest first. ${MANAGERS}`,
    ok: { 200: ['AncestorList', 'The ancestors, nearest first'] }
  },
  listChildren: {
    tag: 'hierarchy', kind: 'read', summary: "List a resource's children", errors: READ,
    description: `The direct children of the resource, ordered by type then id, a page at a time. ${MANAGERS}`,
    ok: { 200: ['ChildPage', 'A page of children'] }
  },
  browseResources: {
    tag: 'access', kind: 'read', summary: 'Browse the resources of a type', errors: READ,
    description: 'A page of the known resources of the type (those with an owner, a parent or a grant), by id, optionally only those whose id starts with prefix, each with its owner and its number of live explicit grants. A superuser sees every one; anyone else only those it manages (owns, or holds manage on), and nothing about the rest.',
    ok: { 200: ['ResourcePage', 'A page of resources'] }
  },
  listAccess: {
    tag: 'access', kind: 'read', summary: 'What a principal may use, and through what', errors: READ,
    description: 'A page of the resources of the type that the principal may use (holds privilege on, default the first configured privilege), each with every privilege it holds there and through what (a direct grant, a group, ownership, an ancestor, a type-level grant), as explain says. Without kind and principal, the caller\'s own access, all of it; for another user or a group, only the resources the caller manages (all of them for a superuser), and nothing about the rest. next is always the last id listed.',
    ok: { 200: ['AccessPage', 'A page of resources and how they are reached'] }
  },
  listTypeGrants: {
    tag: 'grants', kind: 'read', summary: "List a type's type-level grants", errors: [400, 401, 403, 503],
    description: 'The unexpired type-level grants of the resource type: each counts on every resource of the type. Superusers only.',
    ok: { 200: ['TypeGrantList', 'The type-level grants'] }
  },
  addTypeGrant: {
    tag: 'grants', kind: 'change', summary: 'Grant a privilege on every resource of a type', errors: [400, 401, 403, 413, 415, 422, 503],
    description: 'A type-level grant: the privilege on every resource of the type, those that exist and those still to come, whoever\'s. Refused for types typeLevelGrants forbids. Idempotent. Superusers only.',
    ok: { 201: ['Change', 'Granted'], 200: ['Change', 'The grantee already held it: its schedule changed or nothing changed'] }
  },
  revokeTypeGrant: {
    tag: 'grants', kind: 'change', summary: 'Revoke a type-level grant', errors: [400, 401, 403, 404, 503],
    description: 'Takes a type-level privilege from the grantee the query names (kind user or group with principal, or kind anonymous). Superusers only.',
    ok: { 200: ['Change', 'The privileges before and after'] }
  },
  explainAccess: {
    tag: 'explain', kind: 'read', summary: 'Explain what a principal can do on a resource', errors: READ,
    description: `What the principal (a user with its groups, or the anonymous principal) can do on the resource and through which grants; with privilege, the decision and what is missing. ${MANAGERS}`,
    ok: { 200: ['Explanation', 'The privileges and where they come from'] }
  },
  listResourceAudit: {
    tag: 'audit', kind: 'read', summary: "Read a resource's audit trail", errors: READ,
    description: `The resource's audited changes, newest first, a page at a time, optionally for one principal. ${MANAGERS}`,
    ok: { 200: ['AuditPage', 'A page of entries'] }
  },
  listAudit: {
    tag: 'audit', kind: 'read', summary: 'Read the whole audit trail', errors: [400, 401, 403, 503],
    description: 'Every audited change, newest first, a page at a time, optionally for one principal. Superusers only.',
    ok: { 200: ['AuditPage', 'A page of entries'] }
  },
  verifyAudit: {
    tag: 'audit', kind: 'read', summary: 'Verify the audit chain', errors: [401, 403, 503],
    description: 'Recomputes the hash chain of the audit trail and reports every entry that does not fit (edited, deleted or slipped in). Superusers only.',
    ok: { 200: ['AuditVerification', 'The result of the verification'] }
  },
  listGroupMembers: {
    tag: 'members', kind: 'read', summary: "List a stored group's members", errors: READ,
    description: "The group's direct members, users and groups. Whoever may manage the group's resource may call this.",
    ok: { 200: ['MemberList', 'The members'] }
  },
  addGroupMember: {
    tag: 'members', kind: 'change', summary: 'Add a member to a stored group', errors: MEMBER_CHANGE,
    description: "Adds a user or group to the group; idempotent. Whoever may manage the group's resource may call this.",
    ok: { 201: ['MemberChange', 'Added'], 200: ['MemberChange', 'It already was a member: nothing changed'] }
  },
  removeGroupMember: {
    tag: 'members', kind: 'change', summary: 'Remove a member from a stored group', errors: MEMBER_CHANGE,
    description: "Removes a user or group from the group. Whoever may manage the group's resource may call this.",
    ok: { 200: ['MemberChange', 'The membership before and after'] }
  }
} satisfies Record<string, Operation>

export type OperationId = keyof typeof OPERATIONS

/** The documentation part of a route's schema: everything but its params, query and body. */
export function documented (operationId: OperationId): Record<string, unknown> {
  const operation: Operation = OPERATIONS[operationId]
  const response: Record<string, unknown> = {}
  for (const [status, [name, description]] of Object.entries(operation.ok)) response[status] = ref(name, description)
  for (const status of operation.errors) {
    const text = ERRORS[status]
    response[status] = ref('Error', typeof text === 'string' ? text : text[operation.kind])
  }
  return {
    operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: operation.description,
    response
  }
}
