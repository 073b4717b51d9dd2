// Installs the route check as functions of the plugin's schema (see
// `checkFunctions` below) for a host's Kysely whose pool
// sends no prepared statements. Installed at start-up from the rule as it is
// now, never from a migration: a migration is frozen, the rule is not. The
// function names carry a hash of their bodies, so what is found installed is
// exactly what this code would install, and a rule that changed names new
// functions (the old ones stay, unused, until the schema is dropped).
import { createHash } from 'node:crypto'
import { sql, type Kysely } from 'kysely'
import { PREPARED_MARKER, type RuleScope } from './rule-sql.js'
import { checkTexts } from './rule-statements.js'

/**
 * The route check and its ttl form as PL/pgSQL functions of the schema, for
 * a pool that cannot send named prepared statements (a host's plain
 * `pg.Pool`, a pooler in transaction mode): PL/pgSQL keeps each of its
 * statements' plans for the session, and a call is trivial to parse and
 * plan. The bodies are `one` and `oneUntil` of `checkTexts` as they are
 * generated now (a function's `$n` are its arguments, bound as the
 * statement's are), and the names carry a hash of what is installed: a
 * changed rule, schema or `groupDepth` names other functions, so a function
 * installed from an older rule is never called (see `installCheckFunctions` below).
 */
export interface CheckFunctions {
  /** The two function names, unqualified, as `pg_proc` has them. */
  readonly names: readonly [string, string]
  /** The statements that create both (run in one transaction). */
  readonly install: readonly [string, string]
  /** Calls taking the statements' parameters, answering the statements' columns. */
  readonly one: string
  readonly oneUntil: string
}

// The statements' parameters (see above); with a hierarchy, `$7` the edges a path may not cross.
const argumentsOf = (scope: RuleScope) => `(text, text, text[], text, text[], boolean${scope.hierarchy == null ? '' : ', text[]'})`
const callOf = (scope: RuleScope) => `($1::text, $2::text, $3::text[], $4::text, $5::text[], $6::boolean${scope.hierarchy == null ? '' : ', $7::text[]'})`

export function checkFunctions (scope: RuleScope): CheckFunctions {
  const texts = checkTexts(scope)
  const head = `${PREPARED_MARKER} `
  const body = (text: string) => text.slice(head.length)
  const fn = (name: string, returns: string, text: string) => `create or replace function "${scope.schema}".${name}${argumentsOf(scope)}
returns table(${returns}) language plpgsql stable as $fdd$
#variable_conflict use_column
begin
  return query ${body(text)};
end $fdd$`
  const one = (name: string) => fn(name, 'allowed boolean', texts.one)
  const until = (name: string) => fn(name, 'allowed boolean, ttl float8', texts.oneUntil)
  // The whole definitions in the hash (bodies, signature, language), so the name says exactly what runs.
  const hash = createHash('sha256').update(`${one('')}\n${until('')}`).digest('hex').slice(0, 16)
  const names = [`default_deny_check_${hash}`, `default_deny_check_until_${hash}`] as const
  return Object.freeze({
    names,
    install: [one(names[0]), until(names[1])] as const,
    one: `${head}select allowed from "${scope.schema}".${names[0]}${callOf(scope)}`,
    oneUntil: `${head}select allowed, ttl from "${scope.schema}".${names[1]}${callOf(scope)}`
  })
}

/**
 * The functions when they are installed, or were installed now; `null` when
 * they are not and cannot be (a role without CREATE on the schema: the check
 * is then sent as a plain statement, planned on every request).
 */
export async function installCheckFunctions (db: Kysely<any>, scope: RuleScope, onRefused: (err: unknown) => void): Promise<CheckFunctions | null> {
  const functions = checkFunctions(scope)
  const present = async (handle: Kysely<any>) => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace s on s.oid = p.pronamespace
      where s.nspname = ${scope.schema} and p.proname = any(${[...functions.names]}::text[])`.execute(handle)
    return rows[0]?.n === functions.names.length
  }
  try {
    if (await present(db)) return functions
    // Instances starting together take turns: `create or replace` of one function at once fails.
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`fastify-default-deny ${scope.schema} ${functions.names[0]}`}))`.execute(trx)
      if (await present(trx)) return
      for (const statement of functions.install) await sql.raw(statement).execute(trx)
    })
    return functions
  } catch (err) {
    onRefused(err)
    return null
  }
}
