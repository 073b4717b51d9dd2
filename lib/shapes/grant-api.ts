// The grant API's shapes, written once as schemas: the JSON schemas the
// routes validate and serialize with come from here, and so do the types of
// what the handlers receive and what a client (the admin page) gets back.
// Only `typebox` is imported, so the admin page can take its types from here.
// The parts that depend on the options (an id's length, the privileges) are
// `$ref`s, completed in http/shared-schemas.ts.
import { Type, type Static, type TObject, type TProperties, type TUnsafe } from 'typebox'

export const SCHEMA_PREFIX = 'fastify-default-deny.'

export type SharedName =
  | 'Error' | 'Id' | 'Privilege' | 'Reason' | 'GranteeInput' | 'Grantee' | 'Grant' | 'GrantList'
  | 'Change' | 'ChangeList' | 'OwnerChange' | 'Explanation' | 'AuditEntry' | 'AuditPage'
  | 'AuditVerification' | 'Member' | 'MemberList' | 'MemberChange' | 'ScheduledPrivileges'
  | 'ResourceInstance' | 'ParentChange' | 'AncestorList' | 'ChildPage'
  | 'ResourcePage' | 'AccessPage' | 'TypeGrantList'

/** A reference to a shared schema, with an optional description (an OpenAPI response's). */
export function ref (name: SharedName, description?: string): { $ref: string, description?: string } {
  const target = { $ref: `${SCHEMA_PREFIX}${name}#` }
  return description === undefined ? target : { description, ...target }
}

/** A reference to a shared schema whose values are `T`. */
export const refTo = <T>(name: SharedName): TUnsafe<T> => Type.Unsafe<T>(ref(name))

/** A string that is one of `values`, said as `enum` (a refusal lists them). */
export const oneOf = <const T extends readonly string[]>(values: T, options: object = {}): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })

const nullableString = () => Type.Unsafe<string | null>({ type: ['string', 'null'] })

/**
 * An ISO 8601 instant or null. On the wire a string; the handlers hand the
 * serializer Dates (see `Held`).
 */
const instant = () => Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' })
const strings = () => Type.Array(Type.String())

/**
 * The schema of an answer. Response schemas also drive serialization: no
 * `required` (a missing field would throw instead of being left out), while
 * the type still says which properties are always there.
 */
function answer<P extends TProperties> (properties: P, options: { description?: string } = {}): TObject<P> {
  const schema = Type.Object(properties, options)
  delete (schema as { required?: unknown }).required
  return schema
}

// An id: its bound is an option (shared-schemas.ts).
const Id = refTo<string>('Id')

/** Who receives or loses a privilege, as a request names it: exactly one of two forms. */
const granteeForms = [
  Type.Object({ kind: oneOf(['user', 'group']), id: Id }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('anonymous') }, { additionalProperties: false })
] as const
export type GranteeInput = Static<typeof granteeForms[0]> | Static<typeof granteeForms[1]>

/** A grantee in an answer: a user or group with its id, or the anonymous principal. */
const Grantee = Type.Unsafe<GranteeInput>({
  type: 'object',
  description: 'a user or group (with its id) or the anonymous principal',
  properties: { kind: { type: 'string', enum: ['user', 'group', 'anonymous'] }, id: { type: 'string' } }
})
const grantee = refTo<GranteeInput>('Grantee')

/** One resource: its type and id. */
const ResourceInstance = answer({ resource: Type.String(), id: Type.String() }, { description: 'one resource: its type and id' })
const instance = refTo<Static<typeof ResourceInstance>>('ResourceInstance')
const nullableInstance = () => Type.Unsafe<Static<typeof ResourceInstance> | null>({ anyOf: [ref('ResourceInstance'), { type: 'null' }] })

const Grant = answer({
  grantee,
  privilege: Type.String(),
  source: oneOf(['explicit', 'type', 'owner', 'ancestor'], { description: 'a grant on this resource, on its whole type, ownership, or a grant on (or ownership of) an ancestor' }),
  from: Type.Optional(answer({ resource: Type.String(), id: Type.String(), depth: Type.Integer(), owner: Type.Boolean() }, {
    description: "for source 'ancestor': the ancestor the grant (or, with owner true, the ownership) is on; depth 1 is the parent"
  })),
  grantedBy: nullableString(),
  grantedAt: instant(),
  expiresAt: instant(),
  startsAt: instant()
})
const GrantList = answer({
  resource: Type.String(),
  id: Type.String(),
  owner: nullableString(),
  grants: Type.Array(refTo<Static<typeof Grant>>('Grant'))
}, { description: 'the unexpired grants on a resource, scheduled ones included' })

const scheduled = () => Type.Array(answer({ privilege: Type.String(), startsAt: instant(), expiresAt: instant() }))
const ScheduledPrivileges = answer({
  before: scheduled(),
  after: scheduled()
}, { description: 'grants with their schedules, before and after: each counts from `startsAt` (null: from its grant) until `expiresAt` (null: for good)' })

const Change = answer({
  grantee,
  before: strings(),
  after: strings(),
  changed: strings(),
  schedule: refTo<Static<typeof ScheduledPrivileges>>('ScheduledPrivileges')
}, { description: "a grantee's explicit privileges on the resource before and after the change; `changed` lists those added, taken or rescheduled (empty: nothing changed, nothing audited)" })
const ChangeList = answer({
  changes: Type.Array(refTo<Static<typeof Change>>('Change'))
}, { description: 'the grantees whose privileges changed' })
const OwnerChange = answer({ owner: nullableString(), before: nullableString() }, { description: 'the owner now and before' })

const explainReason = answer({
  source: Type.Unsafe<'superuser' | 'owner' | 'user' | 'group' | 'anonymous'>({ type: 'string' }),
  grantee: Type.Optional(grantee),
  privilege: Type.String(),
  typeLevel: Type.Boolean(),
  via: Type.Optional(strings()),
  ancestor: Type.Optional(instance),
  through: Type.Optional(Type.Array(instance))
})
const Explanation = answer({
  principal: answer({ kind: Type.String(), id: nullableString(), groups: strings() }),
  decision: Type.Optional(Type.Unsafe<'allow' | 'deny'>({ type: 'string' })),
  summary: Type.String(),
  stepUp: Type.Optional(answer({
    privilege: Type.String(),
    satisfied: Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] }),
    missing: Type.Optional(oneOf(['factor', 'max_age']))
  })),
  privileges: Type.Array(answer({ privilege: Type.String(), stepUp: Type.Optional(Type.Boolean()), via: Type.Array(explainReason) }))
}, { description: 'what the principal can do on the resource and why; with a privilege asked for, the decision and what is missing' })

const ResourcePage = answer({
  resource: Type.String(),
  prefix: Type.String(),
  resources: Type.Array(answer({ id: Type.String(), owner: nullableString(), grants: Type.Integer() })),
  next: nullableString()
}, { description: 'one page of the known resources of a type the caller manages (every one for a superuser), by id, each with its owner and number of live explicit grants; `next` is the `after` of the following page, or null' })

const AccessPage = answer({
  resource: Type.String(),
  principal: answer({ kind: Type.String(), id: nullableString(), groups: strings() }),
  privilege: Type.String(),
  all: Type.Boolean(),
  resources: Type.Array(answer({
    id: Type.String(),
    privileges: Type.Array(answer({ privilege: Type.String(), stepUp: Type.Optional(Type.Boolean()), via: Type.Array(explainReason) }))
  })),
  next: nullableString()
}, { description: 'one page of the resources of a type the principal may use (holds privilege on), each with every privilege it holds there and through what, as explain says; `all` when a type-level grant or superuser status makes every resource of the type usable; `next` is the `after` of the following page, or null' })

const TypeGrantList = answer({
  resource: Type.String(),
  grants: Type.Array(refTo<Static<typeof Grant>>('Grant'))
}, { description: 'the unexpired type-level grants of a resource type: each counts on every resource of the type, those that exist and those still to come' })

const AuditEntry = answer({
  seq: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actor: nullableString(),
  action: Type.String(),
  grantee: Type.Union([grantee, Type.Null()]),
  resource: Type.String(),
  id: nullableString(),
  before: strings(),
  after: strings(),
  schedule: Type.Union([refTo<Static<typeof ScheduledPrivileges>>('ScheduledPrivileges'), Type.Null()]),
  requestId: nullableString(),
  reason: nullableString(),
  hash: Type.String()
}, { description: 'one audited change, chained to its predecessor by hash' })
const AuditPage = answer({
  entries: Type.Array(refTo<Static<typeof AuditEntry>>('AuditEntry')),
  next: nullableString()
}, { description: 'audit entries, newest first; `next` is the `before` of the next page, or null' })
const AuditVerification = answer({
  ok: Type.Boolean(),
  entries: Type.Integer(),
  brokenAt: nullableString(),
  broken: Type.Array(answer({ seq: Type.String(), problem: oneOf(['hash', 'link']) })),
  brokenCount: Type.Integer()
}, { description: 'the audit chain recomputed: every entry that does not fit' })

const Member = answer({
  kind: oneOf(['user', 'group']),
  id: Type.String(),
  addedBy: nullableString(),
  addedAt: Type.String({ format: 'date-time' })
})
const MemberList = answer({
  group: Type.String(),
  members: Type.Array(refTo<Static<typeof Member>>('Member'))
}, { description: "a stored group's direct members" })
const MemberChange = answer({
  group: Type.String(),
  member: grantee,
  before: strings(),
  after: strings()
}, { description: "the membership before and after: ['member'] while it is one" })

const ParentChange = answer({
  parent: nullableInstance(),
  before: nullableInstance()
}, { description: 'the parent now and before (null: none)' })
const AncestorList = answer({
  resource: Type.String(),
  id: Type.String(),
  ancestors: Type.Array(answer({ resource: Type.String(), id: Type.String(), depth: Type.Integer() }))
}, { description: 'every ancestor of the resource, nearest first (depth 1 is the parent)' })
const ChildPage = answer({
  resource: Type.String(),
  id: Type.String(),
  children: Type.Array(instance),
  next: nullableString()
}, { description: 'one page of the direct children, ordered by type then id; `next` is the `after` of the following page, or null' })

/** The shared schemas that do not depend on the options, by name. */
export const ANSWERS = {
  GranteeInput: {
    description: 'who receives or loses a privilege: a user, a group, or the anonymous principal',
    oneOf: granteeForms
  },
  Grantee,
  Grant,
  GrantList,
  ScheduledPrivileges,
  Change,
  ChangeList,
  OwnerChange,
  Explanation,
  AuditEntry,
  AuditPage,
  AuditVerification,
  Member,
  MemberList,
  MemberChange,
  ResourceInstance,
  ParentChange,
  AncestorList,
  ChildPage,
  ResourcePage,
  AccessPage,
  TypeGrantList
} satisfies Partial<Record<SharedName, object>>

/** What a client receives for the shared schema `K`: JSON, instants as ISO 8601 strings. */
export type Answer<K extends Exclude<keyof typeof ANSWERS, 'GranteeInput'>> = Static<typeof ANSWERS[K]>

/** An answer as the server holds it before serializing: the instants `K` are Dates. */
export type Held<T, K extends keyof T> = { [P in keyof T]: P extends K ? Date | Extract<T[P], null> : T[P] }

/** One grant as a manager sees it, with where it comes from. */
export type ManagedGrant = Held<Answer<'Grant'>, 'grantedAt' | 'expiresAt' | 'startsAt'>
