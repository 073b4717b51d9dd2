// Ids are compared byte-exactly in SQL; these checks only keep out what
// PostgreSQL text cannot store (NUL, lone surrogates) and unbounded input.
export function isValidId (value: unknown, maxLength: number): value is string {
  return typeof value === 'string' &&
    value.length > 0 &&
    value.length <= maxLength &&
    !value.includes('\u0000') &&
    value.isWellFormed()
}
