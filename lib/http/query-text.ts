// Fastify's query-string parser keeps a value whose percent-encoding is not
// valid UTF-8 (`%ff`, an encoded surrogate `%ED%A0%80`, an overlong `%C0%80`)
// as the raw encoded text instead of refusing it. A value that reaches an
// audit row must be exactly what the client meant, so the raw request target
// is read again, strictly, for the parameters that are stored.

/** Whether every occurrence of `name` in the request target's query decodes as UTF-8. */
export function queryDecodes (url: string, name: string): boolean {
  const start = url.indexOf('?')
  if (start === -1) return true
  for (const pair of url.slice(start + 1).split('&')) {
    const equals = pair.indexOf('=')
    const key = strictDecode(equals === -1 ? pair : pair.slice(0, equals))
    // A key that does not decode is not `name`: the parser cannot have read it as one either.
    if (key !== name) continue
    if (equals !== -1 && strictDecode(pair.slice(equals + 1)) === undefined) return false
  }
  return true
}

function strictDecode (text: string): string | undefined {
  try {
    // decodeURIComponent throws on malformed escapes and on bytes that are
    // not UTF-8 (overlong forms and surrogates included).
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    return undefined
  }
}
