// The `acknowledge` option: security findings the operator has looked at and
// accepted. Only known ids: a typo must not silently acknowledge nothing.
import { invalid, nameList } from '../option-values.js'
import { FINDING_IDS } from './findings.js'

export function acknowledgeOption (opts: Record<string, unknown>): ReadonlySet<string> {
  if (opts.acknowledge === undefined) return new Set()
  const ids = nameList('acknowledge', opts.acknowledge, true)
  const known = new Set<string>(FINDING_IDS)
  for (const id of ids) {
    if (!known.has(id)) invalid('acknowledge', `names unknown finding '${id}' (known: ${FINDING_IDS.join(', ')})`)
  }
  return new Set(ids)
}
