// The `adminPage` option: where the page is served and, optionally, the
// host's same-origin URL that hands the page the signed-in user's token.
// Off when absent or false.
import { invalid } from './values.js'

export interface AdminPageSettings {
  prefix: string
  /** A path on the host's own origin answering `{ token }` for its session; null: the token is pasted. */
  tokenUrl: string | null
}

export const DEFAULT_ADMIN_PAGE_SUFFIX = '/ui'
const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/
// A path, never a scheme or another host (`//evil`, `/\evil`): the page
// only ever talks to its own origin, and its Content-Security-Policy agrees.
const TOKEN_URL = /^\/(?![/\\])[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,2047}$/

export function adminPageOption (value: unknown, grantPrefix: string | null): AdminPageSettings | null {
  if (value === undefined || value === false) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('adminPage', 'must be false or { prefix, tokenUrl }')
  // The page holds no rights of its own: everything it shows comes from the grant API.
  if (grantPrefix === null) invalid('adminPage', "needs the grant routes, which 'grantRoutes: false' turns off")
  const { prefix = grantPrefix + DEFAULT_ADMIN_PAGE_SUFFIX, tokenUrl, ...rest } = value as Record<string, unknown>
  if (Object.keys(rest).length > 0) invalid('adminPage', `has unknown key '${Object.keys(rest)[0]}'`)
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) invalid('adminPage.prefix', "must look like '/permissions/ui'")
  if (prefix === grantPrefix) invalid('adminPage.prefix', 'must differ from the grant routes\' prefix')
  if (tokenUrl !== undefined && (typeof tokenUrl !== 'string' || !TOKEN_URL.test(tokenUrl))) {
    invalid('adminPage.tokenUrl', "must be a path on the same origin, like '/session/permissions-token'")
  }
  return Object.freeze({ prefix, tokenUrl: (tokenUrl as string | undefined) ?? null })
}
