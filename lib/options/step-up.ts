// The `stepUp` option: which privileges need a second factor, which claim
// says so, and how recent it must be. Off when absent.
import { MANAGE } from '../decision/policy.js'
import type { StepUpPolicy } from '../decision/step-up.js'
import { claimOption, invalid, nameList, positiveInteger } from './values.js'

export type { StepUpPolicy } from '../decision/step-up.js'

/** What needs a second factor by default: every change, reads not. Only the configured ones count. */
export const DEFAULT_STEP_UP_PRIVILEGES = ['edit', 'delete', MANAGE] as const
export const DEFAULT_STEP_UP_CLAIM = 'amr'
/** RFC 8176 method values that mean a second factor: multiple factors, a one-time password, a hardware key. */
export const DEFAULT_STEP_UP_VALUES = ['mfa', 'otp', 'hwk'] as const
const MAX_STEP_UP_AGE = 31_536_000
const KEYS = new Set(['privileges', 'claim', 'values', 'maxAge', 'acrValues'])

// Values end up in a WWW-Authenticate quoted string, space-separated: visible
// ASCII without a quote, a backslash or a space, so no value can break out.
const CHALLENGE_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/

function valueList (name: string, value: unknown, mayBeEmpty: boolean): string[] {
  if (!Array.isArray(value) || (value.length === 0 && !mayBeEmpty)) invalid(name, `must be ${mayBeEmpty ? 'an' : 'a non-empty'} array of strings`)
  for (const item of value) {
    if (typeof item !== 'string' || !CHALLENGE_VALUE.test(item)) invalid(name, 'must contain only visible ASCII strings without spaces, quotes or backslashes')
  }
  if (new Set(value).size !== value.length) invalid(name, 'must not repeat a value')
  return value as string[]
}

/**
 * The step-up policy, or `null` when the option is absent or `false`.
 * `known` is every configured privilege (`manage` included).
 */
export function stepUpOption (opts: Record<string, unknown>, known: ReadonlySet<string>): StepUpPolicy | null {
  const raw = opts.stepUp
  if (raw === undefined || raw === false) return null
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('stepUp', 'must be an object or false')
  const fields = raw as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (!KEYS.has(key)) invalid('stepUp', `has unknown key '${key}'`)
  }
  // The primitives name what they refuse after the key they read.
  const field = (key: string) => ({ [`stepUp.${key}`]: fields[key] })

  const privileges = fields.privileges === undefined
    ? DEFAULT_STEP_UP_PRIVILEGES.filter((privilege) => known.has(privilege))
    : nameList('stepUp.privileges', fields.privileges)
  for (const privilege of privileges) {
    if (!known.has(privilege)) invalid('stepUp.privileges', `names unknown privilege '${privilege}'`)
  }
  const claim = claimOption(field('claim'), 'stepUp.claim', DEFAULT_STEP_UP_CLAIM)
  const values = fields.values === undefined ? [...DEFAULT_STEP_UP_VALUES] : valueList('stepUp.values', fields.values, false)
  const maxAge = fields.maxAge === undefined ? null : positiveInteger(field('maxAge'), 'stepUp.maxAge', 0, MAX_STEP_UP_AGE)
  // An `acr` claim holds the very values a challenge asks for; `amr` method
  // names are not authentication context classes, so nothing is asked by default.
  const acrValues = fields.acrValues === undefined
    ? (claim === 'acr' ? values : [])
    : valueList('stepUp.acrValues', fields.acrValues, true)
  return Object.freeze({
    privileges: new Set(privileges),
    claim,
    values: new Set(values),
    maxAge,
    acrValues: Object.freeze([...acrValues])
  })
}
