// Installs the route check as functions of the plugin's schema (see
// `checkFunctions` in lib/store/rule-sql.ts) for a host's Kysely whose pool
// sends no prepared statements. Installed at start-up from the rule as it is
// now, never from a migration: a migration is frozen, the rule is not. The
// function names carry a hash of their bodies, so what is found installed is
// exactly what this code would install, and a rule that changed names new
// functions (the old ones stay, unused, until the schema is dropped).
import { sql, type Kysely } from 'kysely'
import { checkFunctions, type CheckFunctions, type RuleScope } from './rule-sql.js'

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
