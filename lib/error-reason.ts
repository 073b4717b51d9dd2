/**
 * What went wrong, in words: pg reports a refused connection to a host with
 * several addresses as an AggregateError with an empty message, and the
 * reason (ECONNREFUSED, a missing database) would otherwise only be in `cause`.
 */
export function reasonOf (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const inner = error instanceof AggregateError ? error.errors.find((e) => e instanceof Error) as Error | undefined : undefined
  const message = error.message !== '' ? error.message : inner !== undefined ? reasonOf(inner) : ''
  if (message === '') return typeof code === 'string' ? code : error.name
  // A system error's code (ECONNRESET) says what its words may not; a SQLSTATE or an FST_ code adds nothing.
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && !message.includes(code) ? `${message} (${code})` : message
}
