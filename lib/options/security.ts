// The `acknowledge` option: security findings the operator has looked at and
// accepted. Only known ids: a typo must not silently acknowledge nothing.
import { invalid, nameList } from './values.js'
import { FINDING_IDS } from '../security/findings.js'

export interface SecurityOptions {
  /** Security findings the operator accepted: they never stop a production start-up. */
  readonly acknowledge: ReadonlySet<string>
}

export function securityOptions (opts: Record<string, unknown>): SecurityOptions {
  return Object.freeze({ acknowledge: acknowledgeOption(opts) })
}

function acknowledgeOption (opts: Record<string, unknown>): ReadonlySet<string> {
  if (opts.acknowledge === undefined) return new Set()
  const ids = nameList('acknowledge', opts.acknowledge, true)
  const known = new Set<string>(FINDING_IDS)
  for (const id of ids) {
    if (!known.has(id)) invalid('acknowledge', `names unknown finding '${id}' (known: ${FINDING_IDS.join(', ')})`)
  }
  return new Set(ids)
}
