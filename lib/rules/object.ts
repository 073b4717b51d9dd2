/**
 * Whether `value` is a plain object (a JSON object, or one made with
 * `Object.create(null)`): arrays and class instances are not.
 */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
