// Request paths and path keys go through the same normaliser so that they
// compare as plain strings: no leading slash, no trailing slash, root is ''.
//
// Rules only help if they see the path the router dispatches on. find-my-way
// (Fastify 5) percent-decodes the path with decodeURI, does not resolve `.` or
// `..`, keeps `%2F` encoded while matching, treats `\` as an ordinary character
// and, by default, treats `//` and a trailing slash as significant. Where our
// reading could differ from the router's, a match on our reading could let a
// `terminal` rule on one path open a handler that lives under another, blocked
// path (for example `/api/x/../connect` reaching an `/api/*` route after
// `api/connect` was judged terminal). So the shapes that no well-behaved
// client sends (dot segments, backslashes, encoded slashes, empty segments,
// control characters) are refused with null, which the caller turns into a
// deny, instead of being rewritten.
//
// Two more differences from the router's reading:
// - With `useSemicolonDelimiter` the router cuts the path at `;`
//   (`/reports/daily;x` runs the `/reports/daily` handler), which would dodge
//   an exact key. The rules cannot see router options, so a raw `;` in the
//   path is refused.
// - The router matches static routes on a decodeURI reading, which leaves
//   `%23 %24 %25 %26 %2B %2C %3A %3B %3D %3F %40` encoded, while parameters are
//   fully decoded. For a key that contains one of those characters
//   (`api/v1:connect`) the two readings of `/api/v1%3Aconnect` name different
//   routes, so when some key contains one (`hasReservedKey`), such encodings
//   are refused too. Keys without them judge both readings alike.

const ABSOLUTE_FORM = /^(https?):\/\/([^/?#]*)/i
const ENCODED_SEPARATOR = /%(2f|5c)/i
const ENCODED_RESERVED = /%(23|24|25|26|2b|2c|3a|3b|3d|3f|40)/i
/** Characters a key may contain that the router does not decode in static paths. */
export const RESERVED_KEY_CHARACTER = /[#$%&+,:;=?@]/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/

/**
 * Normalise the raw request target (`request.raw.url`) for rule matching.
 *
 * Accepts origin-form (`/a/b?x=1`) and http(s) absolute-form
 * (`http://host/a/b`). Returns the decoded path without leading or trailing
 * slash (`''` for the root), lower-cased when the router is case-insensitive,
 * or `null` when the target is malformed or ambiguous; the caller must then
 * deny. `hasReservedKey` (see CompiledRules) also refuses encoded reserved
 * characters.
 */
export function normalizeRequestPath (rawUrl: string, caseSensitive: boolean, hasReservedKey = false): string | null {
  if (typeof rawUrl !== 'string') return null
  let target = rawUrl
  if (!target.startsWith('/')) {
    const absolute = ABSOLUTE_FORM.exec(target)
    // Like the router: a fragment is never valid in an absolute-form target.
    if (absolute === null || absolute[2] === '' || target.includes('#')) return null
    target = target.slice(absolute[0].length)
    if (!target.startsWith('/')) target = '/'
  }
  const end = firstIndexOf(target, '?', '#')
  const body = target.slice(1, end)
  if (hasReservedKey && ENCODED_RESERVED.test(body)) return null
  return normalizePathBody(body, caseSensitive)
}

/**
 * Normalise a path without its leading slash: decode once, refuse ambiguous
 * shapes, drop one trailing slash. Shared by request paths and path keys.
 */
export function normalizePathBody (body: string, caseSensitive: boolean): string | null {
  if (ENCODED_SEPARATOR.test(body) || body.includes('\\') || body.includes(';')) return null
  let decoded: string
  try {
    decoded = decodeURIComponent(body)
  } catch {
    return null
  }
  if (CONTROL_CHARACTER.test(decoded) || decoded.startsWith('/')) return null
  if (decoded.endsWith('/')) decoded = decoded.slice(0, -1)
  if (decoded === '') return ''
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return null
  }
  return caseSensitive ? decoded : decoded.toLowerCase()
}

function firstIndexOf (text: string, a: string, b: string): number {
  const ia = text.indexOf(a)
  const ib = text.indexOf(b)
  if (ia === -1) return ib === -1 ? text.length : ib
  return ib === -1 ? ia : Math.min(ia, ib)
}
