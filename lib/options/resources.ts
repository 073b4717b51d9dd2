// The resource types declared beside the annotated ones.
import { isValidId } from '../decision/ids.js'
import { DEFAULT_MAX_ID_LENGTH } from './enforcement.js'
import { invalid } from './values.js'

export interface ResourceOptions {
  /** `resources: 'any'`: no type is refused. */
  readonly any: boolean
  readonly declared: readonly string[]
}

export function resourcesOption (value: unknown): ResourceOptions {
  if (value === undefined) return Object.freeze({ any: false, declared: [] })
  if (value === 'any') return Object.freeze({ any: true, declared: [] })
  if (!Array.isArray(value) || !value.every((type) => isValidId(type, DEFAULT_MAX_ID_LENGTH))) {
    invalid('resources', "must be an array of resource types (non-empty strings) or 'any'")
  }
  if (new Set(value).size !== value.length) invalid('resources', 'must not repeat a resource type')
  return Object.freeze({ any: false, declared: Object.freeze([...value as string[]]) })
}
