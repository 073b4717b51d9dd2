// A fixture's world, written through the service API (the same validation,
// eligibility rules and audit as any host's writes), and the words a fixture
// uses for principals, grantees and resources turned into the plugin's.
import type { DefaultDenyApi, GrantInput, GranteeRef, MemberRef, Principal } from '../../fastify-plugin.js'
import { parseInstant } from '../decision/instant.js'
import { FixtureError, type Asking, type Fixture } from './fixture.js'

/**
 * The fixture's clock. The plugin reads the time from the database (every
 * grant's dates are compared with `now()` inside its queries), so a clock
 * is kept by moving the world instead: every date is stored shifted by the
 * distance from the clock to the real now, and the comparisons come out as
 * they would at the clock. They are exact to the run's own duration: keep
 * the world's dates a second or more away from the clock.
 */
export interface Clock {
  /** Milliseconds to add to a fixture's date to store it. */
  readonly offset: number
  at: (text: string) => Date
}

export function clockOf (fixture: Pick<Fixture, 'clock'>, now = Date.now()): Clock {
  const instant = (text: string) => parseInstant(text, { dateOnly: true }) as Date
  const offset = fixture.clock === undefined ? 0 : now - instant(fixture.clock).getTime()
  return { offset, at: (text) => new Date(instant(text).getTime() + offset) }
}

export function principalOf ({ principal, groups = [], superuser = false }: Asking): Principal {
  if (principal === 'anonymous') return { kind: 'anonymous', id: null, groups, superuser: false, claims: null }
  return { kind: 'user', id: principal.slice('user:'.length), groups, superuser, claims: null }
}

export function granteeOf (text: string): GranteeRef {
  if (text === 'anonymous') return { kind: 'anonymous' }
  const colon = text.indexOf(':')
  return { kind: text.slice(0, colon) as 'user' | 'group', id: text.slice(colon + 1) }
}

export const memberOf = (text: string): MemberRef => granteeOf(text) as MemberRef

export function instanceOf (text: string): { resource: string, id: string } {
  const colon = text.indexOf(':')
  return { resource: text.slice(0, colon), id: text.slice(colon + 1) }
}

/** The resource types the world names: declared for the fixture's instance, as a host declares its own. */
export function worldTypes (fixture: Pick<Fixture, 'world'>): string[] {
  const { grants = [], owners = [], parents = [] } = fixture.world
  return [...new Set([...grants, ...owners, ...parents].flatMap((row) => [row.resource, ...('parent' in row ? [instanceOf(row.parent).resource] : [])]))]
}

const WRITER = { actor: 'policy-test', reason: 'policy-test world' }

// A refusal while writing the world is the fixture's fault: it names the row.
const refused = (fixture: Fixture, path: string, err: unknown) =>
  new FixtureError(fixture.file, path, `was refused by the plugin: ${(err as Error).message}`, fixture.lineOf?.(path))

async function row<T> (fixture: Fixture, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw refused(fixture, path, err)
  }
}

/**
 * Writes the world: memberships, owners, parents, then grants. A grant that
 * has expired at the clock never counts and the plugin refuses to store
 * one, so it is left out, which decides the same.
 */
export async function writeWorld (permissions: DefaultDenyApi, fixture: Fixture, clock: Clock): Promise<void> {
  const { grants = [], owners = [], members = [], parents = [] } = fixture.world
  for (const [i, { group, member }] of members.entries()) {
    await row(fixture, `/world/members/${i}`, async () => await permissions.addMember({ group, member: memberOf(member) }, WRITER))
  }
  for (const [i, { resource, id, owner }] of owners.entries()) {
    await row(fixture, `/world/owners/${i}`, async () => await permissions.setOwner({ resource, id, owner }, WRITER))
  }
  for (const [i, { resource, id, parent }] of parents.entries()) {
    await row(fixture, `/world/parents/${i}`, async () => await permissions.setParent({ resource, id }, instanceOf(parent), WRITER))
  }
  const now = Date.now()
  const inputs: Array<[number, GrantInput]> = []
  for (const [i, grant] of grants.entries()) {
    const expiresAt = grant.expiresAt === undefined ? null : clock.at(grant.expiresAt)
    if (expiresAt !== null && expiresAt.getTime() <= now) continue
    inputs.push([i, {
      grantee: granteeOf(grant.grantee),
      resource: grant.resource,
      id: grant.id ?? null,
      privilege: grant.privilege as GrantInput['privilege'],
      grantedBy: 'policy-test',
      expiresAt,
      startsAt: grant.startsAt === undefined ? null : clock.at(grant.startsAt)
    }])
  }
  if (inputs.length === 0) return
  try {
    await permissions.grantMany(inputs.map(([, input]) => input), WRITER)
  } catch (err) {
    const index = (err as { index?: unknown }).index
    throw refused(fixture, typeof index === 'number' ? `/world/grants/${inputs[index]?.[0] ?? index}` : '/world/grants', err)
  }
}
