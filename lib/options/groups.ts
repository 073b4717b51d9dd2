// Stored groups: how deep nesting counts, which resource type's `manage`
// lets its holder change a group's members, and how large one change may be.
import { isValidId } from '../decision/ids.js'
import { DEFAULT_MAX_ID_LENGTH } from './enforcement.js'
import { invalid, positiveInteger } from './values.js'

/** Levels of stored group nesting that count (at most 32; 0: stored groups are off). */
export const DEFAULT_GROUP_DEPTH = 8
/** Most member–group pairs one membership change may settle: on the embedded database, a few tens of milliseconds. */
export const DEFAULT_MAX_MEMBERSHIP_CHANGE = 1000
/** The resource type whose `manage` lets its holder change a group's members. */
export const DEFAULT_GROUP_RESOURCE = 'group'

export interface GroupOptions {
  readonly groupDepth: number
  readonly groupResource: string
  readonly maxMembershipChange: number
}

export function groupOptions (opts: Record<string, unknown>): GroupOptions {
  const groupDepth = opts.groupDepth === 0 ? 0 : positiveInteger(opts, 'groupDepth', DEFAULT_GROUP_DEPTH, 32)
  const value = opts.groupResource
  if (value !== undefined && !isValidId(value, DEFAULT_MAX_ID_LENGTH)) invalid('groupResource', 'must be a valid resource type')
  return Object.freeze({
    groupDepth,
    groupResource: (value as string | undefined) ?? DEFAULT_GROUP_RESOURCE,
    maxMembershipChange: positiveInteger(opts, 'maxMembershipChange', DEFAULT_MAX_MEMBERSHIP_CHANGE, 100_000_000)
  })
}
