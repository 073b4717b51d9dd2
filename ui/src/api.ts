// The page's one door to the server: the grant API, with the user's own
// bearer token. The page has no other source of data and no rights of its own.

export interface Config {
  api: string
  tokenUrl: string | null
  privileges: string[]
  anonymousPrivileges: string[]
  groups: boolean
  /** The hierarchy option is on: resources have parents, ancestors and children. */
  hierarchy: boolean
}

export interface Grantee { kind: 'user' | 'group' | 'anonymous', id?: string }

export class ApiError extends Error {
  /**
   * `detail`: for a refusal of what the page sent (400), the server's words
   * naming the field and the rule, and the field as a JSON pointer.
   */
  constructor (readonly status: number, readonly code: string | null, readonly detail: { message: string, field: string | null } | null = null) {
    super(`${status} ${code ?? ''}`)
  }
}

export interface Session {
  config: Config
  /** The token, kept in this variable only: gone when the tab closes or reloads. */
  token: string | null
  /** Where the token came from, for the page to say. */
  source: 'pasted' | 'host' | null
}

export const session: Session = { config: { api: '', tokenUrl: null, privileges: [], anonymousPrivileges: [], groups: false, hierarchy: false }, token: null, source: null }

export async function loadConfig (base: string): Promise<Config> {
  const response = await fetch(`${base}/config.json`, { credentials: 'omit', cache: 'no-store' })
  if (!response.ok) throw new ApiError(response.status, null)
  session.config = await response.json() as Config
  return session.config
}

/** The host's token for its signed-in user, when it offers one at `tokenUrl`. */
export async function tokenFromHost (): Promise<boolean> {
  const url = session.config.tokenUrl
  if (url === null) return false
  try {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store', headers: { accept: 'application/json' }, redirect: 'error' })
    if (!response.ok) return false
    const body = await response.json() as { token?: unknown }
    if (typeof body.token !== 'string' || body.token === '') return false
    session.token = body.token
    session.source = 'host'
    return true
  } catch {
    return false
  }
}

/** Path segments from ids: any character, `/` and `?` included, stays inside its segment. */
export function path (...segments: string[]): string {
  return segments.map((segment) => `/${encodeURIComponent(segment)}`).join('')
}

export interface Call {
  query?: Record<string, string | string[] | undefined>
  body?: unknown
}

export async function call<T> (method: string, route: string, { query, body }: Call = {}): Promise<T> {
  const attempt = async (): Promise<Response> => {
    const url = new URL(session.config.api + route, location.origin)
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === '') continue
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, item)
    }
    const headers: Record<string, string> = { accept: 'application/json' }
    if (session.token !== null) headers.authorization = `Bearer ${session.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error'
    })
  }
  let response: Response
  try {
    response = await attempt()
    // A token from the host may have expired: ask the host once more.
    if (response.status === 401 && session.source === 'host' && await tokenFromHost()) response = await attempt()
  } catch {
    throw new ApiError(0, null)
  }
  const text = await response.text()
  let data: unknown = null
  try { data = text === '' ? null : JSON.parse(text) } catch { data = null }
  if (!response.ok) {
    const body = (typeof data === 'object' && data !== null ? data : {}) as { code?: unknown, message?: unknown, field?: unknown }
    const code = typeof body.code === 'string' ? body.code : null
    const detail = response.status === 400 && typeof body.message === 'string'
      ? { message: body.message, field: typeof body.field === 'string' ? body.field : null }
      : null
    throw new ApiError(response.status, code, detail)
  }
  return data as T
}

/** What the token says about its holder, unverified, for the page to show; the server decides. */
export function tokenSubject (token: string): { sub: string | null, exp: number | null } {
  try {
    const part = token.split('.')[1] ?? ''
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))
    const claims = JSON.parse(json) as { sub?: unknown, exp?: unknown }
    return { sub: typeof claims.sub === 'string' ? claims.sub : null, exp: typeof claims.exp === 'number' ? claims.exp : null }
  } catch {
    return { sub: null, exp: null }
  }
}
