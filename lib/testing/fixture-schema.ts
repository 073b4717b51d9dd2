// The policy-test fixture's shape, as a JSON Schema: what the loader
// validates against, and (written out as schema/policy-test.schema.json,
// which test/policy/fixture-schema-file.test.ts keeps equal to it) what
// editors complete from. The values of `options` are left to the plugin's
// own option validation: only their names are listed here.

const text = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', minLength: 1, description, ...extra })
const PRINCIPAL = text("'user:ID' or 'anonymous'", { pattern: '^(?:user:.+|anonymous)$' })
const GRANTEE = text("'user:ID', 'group:ID' or 'anonymous'", { pattern: '^(?:user:.+|group:.+|anonymous)$' })
const MEMBER = text("'user:ID' or 'group:ID'", { pattern: '^(?:user|group):.+$' })
const INSTANCE = text("'TYPE:ID', e.g. 'folder:f2'", { pattern: '^[^:]+:.+$' })
const INSTANT_FORM = 'an ISO 8601 date-time with an offset (2027-01-31T12:00:00Z), or a date (2027-01-31, midnight UTC)'
const INSTANT = text(INSTANT_FORM,
  { pattern: '^\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:\\d{2}))?$' })
const IDS = { type: 'array', items: text('a resource id'), uniqueItems: true }

const OPTION_NAMES: Record<string, string> = {
  privileges: "the privileges, e.g. ['read', 'edit', 'delete'] ('manage' is always added)",
  implies: "what a privilege implies, e.g. { edit: ['read'] } (transitive)",
  ownerPrivileges: 'what an owner holds (default: every privilege)',
  anonymousPrivileges: 'what the anonymous principal may ever be granted',
  allowManageDelegation: "whether managers who are not owners may grant 'manage'",
  hideForbidden: 'answer forbidden exactly like missing (404)',
  userClaim: "the token claim naming the user (default 'sub')",
  groupsClaim: "the token claim listing the user's groups (default 'groups')",
  superuserClaim: 'the token claim that makes a superuser when it is true',
  groupDepth: 'levels of stored group nesting that count (0 turns stored groups off)',
  groupResource: "the resource type whose managers change a group's members (default 'group')",
  maxGroups: 'most groups a principal may carry',
  maxIdLength: 'longest resource, user or group id accepted',
  resources: 'resource types besides those the world names, or "any"',
  typeLevelGrants: '{ forbid: [types] }: types no grant may name whole',
  hierarchy: '{ maxDepth?, types: { child: { parents: [type | { type, inherits }] } } }'
}

// Who asks: a principal, the groups its token carries, and whether it is a superuser.
const asking = {
  principal: PRINCIPAL,
  groups: { type: 'array', items: text('a group id'), description: "groups the principal's token carries" },
  superuser: { type: 'boolean', description: 'a superuser token' }
}

const decision = (description: string) => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['principal', 'resource', 'id', 'privilege'],
  properties: { ...asking, resource: text('the resource type'), id: text('the resource id'), privilege: text('the privilege asked') }
})

const listed = (extra: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required: ['principal', 'resource', 'privilege', ...required],
  properties: { ...asking, resource: text('the resource type'), privilege: text('the privilege asked'), ...extra }
})

const assertion = (name: string, body: Record<string, unknown>, required: string[], properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  required: [name, ...required],
  properties: { [name]: body, description: text('what this assertion shows, printed with its result'), ...properties }
})

/** Each kind of assertion, by the key that names it: the loader reports a bad one against its own kind. */
export const ASSERTIONS = {
  allow: assertion('allow', decision('the principal may'), [], {}),
  deny: assertion('deny', decision('the principal may not'), [], {}),
  listIds: assertion('listIds', listed({}, []), [], { ids: IDS, all: { type: 'boolean', description: 'listIds answers all: true (a type-level grant, a superuser)' } }),
  filter: assertion('filter', listed({ rows: { ...IDS, description: 'the ids of the rows given to the filter' } }, ['rows']), ['keeps'], { keeps: { ...IDS, description: 'the ids of the rows the filter keeps' } }),
  explain: assertion('explain', { ...decision('what explain is asked'), required: ['principal', 'resource', 'id'] }, ['names'], {
    names: {
      type: 'object',
      description: 'a reason explain must give: every field given must match',
      additionalProperties: false,
      required: ['source'],
      properties: {
        source: { enum: ['superuser', 'owner', 'user', 'group', 'anonymous'] },
        grantee: GRANTEE,
        privilege: text('the privilege the reason is for'),
        typeLevel: { type: 'boolean' },
        ancestor: INSTANCE
      }
    }
  }),
  change: assertion('change', {
    type: 'object',
    description: 'a change through the grant API by an actor, sent with inject',
    additionalProperties: false,
    required: ['as', 'resource', 'id'],
    properties: {
      as: { ...PRINCIPAL, description: "the actor: 'user:ID' (or 'anonymous', with no token)" },
      groups: asking.groups,
      resource: text('the resource type'),
      id: text('the resource id'),
      grant: { type: 'object', additionalProperties: false, required: ['grantee', 'privilege'], properties: { grantee: GRANTEE, privilege: text('the privilege'), expiresAt: INSTANT, startsAt: INSTANT } },
      revoke: { type: 'object', additionalProperties: false, required: ['grantee', 'privilege'], properties: { grantee: GRANTEE, privilege: text('the privilege') } },
      owner: { type: ['string', 'null'], minLength: 1, description: 'the new owner (null: none)' }
    },
    oneOf: [{ required: ['grant'] }, { required: ['revoke'] }, { required: ['owner'] }]
  }, ['refused'], { refused: text("the error code the API answers with, e.g. 'FST_DEFAULT_DENY_ESCALATION'", { pattern: '^[A-Z][A-Z0-9_]+$' }) }),
  route: assertion('route', text("'METHOD /path' as the app registers it, e.g. 'GET /documents/:id'", { pattern: '^[A-Z]+ /' }), ['status'], {
    as: { ...PRINCIPAL, description: "who sends the request: 'user:ID' (a token signed with the app's @fastify/jwt) or 'anonymous' (no token)" },
    groups: asking.groups,
    params: { type: 'object', additionalProperties: { type: 'string' }, description: "the route's parameters, e.g. { id: 'welcome' }" },
    body: { description: 'the JSON body sent' },
    status: { type: 'integer', minimum: 100, maximum: 599, description: 'the status the app answers with' }
  })
}

export const FIXTURE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://unpkg.com/fastify-default-deny/schema/policy-test.schema.json',
  title: 'fastify-default-deny policy test',
  description: 'Options, a world of grants, owners, memberships and parents, and what the plugin must decide in it.',
  type: 'object',
  additionalProperties: false,
  required: ['assertions'],
  properties: {
    $schema: { type: 'string' },
    name: text('what the fixture tests'),
    options: {
      type: 'object',
      description: "the plugin's options that shape decisions, checked by the plugin itself",
      additionalProperties: false,
      properties: Object.fromEntries(Object.entries(OPTION_NAMES).map(([name, description]) => [name, { description }]))
    },
    clock: { ...INSTANT, description: `${INSTANT_FORM}: the instant the assertions are decided at (default: now); the grants' dates are read against it` },
    world: {
      type: 'object',
      additionalProperties: false,
      properties: {
        grants: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['grantee', 'privilege', 'resource'],
            properties: {
              grantee: GRANTEE,
              privilege: text('the privilege granted'),
              resource: text('the resource type'),
              id: text('the resource id; leave it out for a type-level grant (every resource of the type)'),
              startsAt: { ...INSTANT, description: `${INSTANT_FORM}: the grant counts from then` },
              expiresAt: { ...INSTANT, description: `${INSTANT_FORM}: the grant counts until then` }
            }
          }
        },
        owners: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['resource', 'id', 'owner'], properties: { resource: text('the resource type'), id: text('the resource id'), owner: text('the owning user id') } }
        },
        members: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['group', 'member'], properties: { group: text('the stored group'), member: MEMBER } }
        },
        parents: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, required: ['resource', 'id', 'parent'], properties: { resource: text('the child\'s type'), id: text('the child\'s id'), parent: INSTANCE } }
        }
      }
    },
    assertions: {
      type: 'array',
      minItems: 1,
      items: {
        oneOf: Object.values(ASSERTIONS)
      }
    }
  }
} as const
