// From a file to a fixture the runner can trust: the document must match the
// published schema (the first broken rule is reported, at its path), its dates
// must exist on the calendar, and its options must pass the plugin's own
// option validation, the one a host's registration goes through.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { parseInstant } from '../decision/instant.js'
import { checkOptions } from '../options/index.js'
import { ASSERTIONS, FIXTURE_SCHEMA } from './fixture-schema.js'
import { ASSERTION_KINDS, FixtureError, type Fixture } from './fixture.js'
import { parseFixtureFile, type Parsed } from './parse.js'

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true })
let validators: { fixture: ValidateFunction, kinds: Map<string, ValidateFunction> } | undefined
function compiled () {
  validators ??= {
    fixture: ajv.compile(FIXTURE_SCHEMA),
    kinds: new Map(Object.entries(ASSERTIONS).map(([kind, schema]) => [kind, ajv.compile(schema)]))
  }
  return validators
}

const quoted = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

// A rule in words, from the schema's own descriptions where it has them.
function ruleOf (error: ErrorObject): string {
  const params = error.params as Record<string, unknown>
  const description = (error.parentSchema as { description?: string } | undefined)?.description
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object }).properties ?? {})
      return `'${String(params.additionalProperty)}' is not allowed here (allowed: ${allowed.join(', ')})`
    }
    case 'required': return `'${String(params.missingProperty)}' is required`
    case 'pattern': return `must be ${description ?? `a string matching ${String(params.pattern)}`} (got ${quoted(error.data)})`
    case 'type': return `must be ${String(params.type)}${description === undefined ? '' : `: ${description}`} (got ${quoted(error.data)})`
    case 'enum': return `must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')} (got ${quoted(error.data)})`
    case 'minLength': return 'must not be empty'
    case 'minItems': return `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`
    case 'uniqueItems': return `must not repeat an item (items ${String(params.j)} and ${String(params.i)} are the same)`
    case 'oneOf': return `must have exactly one of ${((error.schema as Array<{ required: string[] }>).map((s) => s.required[0])).join(', ')}`
    default: return error.message ?? `breaks the rule '${error.keyword}'`
  }
}

// Where the broken rule is: an unknown key is named by its own path.
const pathOf = (error: ErrorObject): string => error.keyword === 'additionalProperties'
  ? `${error.instancePath}/${String((error.params as { additionalProperty: string }).additionalProperty).replaceAll('~', '~0').replaceAll('/', '~1')}`
  : error.instancePath

// An assertion matches one of several shapes: report it against the kind
// its key names, not every shape it does not match.
function schemaError (file: string, parsed: Parsed, error: ErrorObject): FixtureError {
  const item = /^\/assertions\/(\d+)(?:\/|$)/.exec(error.instancePath)
  if (item !== null) {
    const at = `/assertions/${item[1] as string}`
    const assertion = ((parsed.value as { assertions: unknown[] }).assertions)[Number(item[1])]
    if (typeof assertion !== 'object' || assertion === null || Array.isArray(assertion)) {
      return new FixtureError(file, at, `must be an object with one of ${ASSERTION_KINDS.join(', ')}`, parsed.lineOf(at))
    }
    const kinds = ASSERTION_KINDS.filter((kind) => kind in assertion)
    if (kinds.length !== 1) {
      return new FixtureError(file, at, kinds.length === 0 ? `must say what it asserts: one of ${ASSERTION_KINDS.join(', ')}` : `asserts one thing: ${kinds.join(' and ')} given`, parsed.lineOf(at))
    }
    const validate = compiled().kinds.get(kinds[0] as string) as ValidateFunction
    if (!validate(assertion)) {
      // A change's "exactly one of" says more than the first of its branches' complaints.
      const inner = (validate.errors?.find((e) => e.keyword === 'oneOf') ?? validate.errors?.[0]) as ErrorObject
      const path = `${at}${pathOf(inner)}`
      return new FixtureError(file, path, ruleOf(inner), parsed.lineOf(path))
    }
  }
  return new FixtureError(file, pathOf(error), ruleOf(error), parsed.lineOf(pathOf(error)))
}

// Every date the document gives, with its path.
function * instants (fixture: Omit<Fixture, 'file'>): Generator<[string, string]> {
  if (fixture.clock !== undefined) yield ['/clock', fixture.clock]
  for (const [i, grant] of (fixture.world.grants ?? []).entries()) {
    if (grant.startsAt !== undefined) yield [`/world/grants/${i}/startsAt`, grant.startsAt]
    if (grant.expiresAt !== undefined) yield [`/world/grants/${i}/expiresAt`, grant.expiresAt]
  }
  for (const [i, assertion] of fixture.assertions.entries()) {
    if (!('change' in assertion) || assertion.change.grant === undefined) continue
    const { startsAt, expiresAt } = assertion.change.grant
    if (startsAt !== undefined) yield [`/assertions/${i}/change/grant/startsAt`, startsAt]
    if (expiresAt !== undefined) yield [`/assertions/${i}/change/grant/expiresAt`, expiresAt]
  }
}

// The plugin names an option, or a part of one, with dots ('implies.edit'):
// its path in the document, as deep as the document has it.
function optionPath (options: Record<string, unknown>, name: string | undefined): string {
  const found: string[] = []
  let value: unknown = options
  for (const key of name?.split('.') ?? []) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) break
    found.push(key)
    value = (value as Record<string, unknown>)[key]
  }
  return ['/options', ...found].join('/')
}

// Stands in for the database in the option check: the options that shape
// decisions are judged without one, and nothing connects to it.
const NO_DATABASE = 'postgres://127.0.0.1/policy-test'

/** Reads, checks and returns the fixture in `file`; a FixtureError names what is wrong. */
export async function loadFixture (file: string): Promise<Fixture> {
  const parsed = await parseFixtureFile(file)
  const { fixture: validate } = compiled()
  if (!validate(parsed.value)) throw schemaError(file, parsed, validate.errors?.[0] as ErrorObject)
  const document = parsed.value as Omit<Fixture, 'file' | 'options' | 'world'> & Partial<Pick<Fixture, 'options' | 'world'>>
  const fixture: Fixture = { ...document, file, options: document.options ?? {}, world: document.world ?? {}, lineOf: parsed.lineOf }
  for (const [path, text] of instants(fixture)) {
    if (parseInstant(text, { dateOnly: true }) === null) throw new FixtureError(file, path, `must be a date that exists on the calendar (got ${quoted(text)})`, parsed.lineOf(path))
  }
  try {
    checkOptions({ ...fixture.options, connectionString: NO_DATABASE })
  } catch (err) {
    const path = optionPath(fixture.options, /^option '([^']+)'/.exec((err as Error).message)?.[1])
    throw new FixtureError(file, path, (err as Error).message, parsed.lineOf(path))
  }
  return fixture
}
