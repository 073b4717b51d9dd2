// The decision cache's options for a test app: on PostgreSQL the test's own
// pool is the host's, so the cache is told where to LISTEN.
import { startProxy, type TcpProxy } from './fixtures/tcp-proxy.js'
import { usingPostgres } from './helper.js'

export function cacheOn (extra: Record<string, unknown> = {}): { cache: Record<string, unknown> } {
  return { cache: { ...(usingPostgres ? { listenConnectionString: process.env.DATABASE_URL } : {}), ...extra } }
}

/** Waits until `condition` holds, polling; fails the caller after `ms`. */
export async function eventually (condition: () => Promise<boolean> | boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A TCP proxy in front of the DATABASE_URL server, closed at teardown: `through` is the URL that goes through it. */
export async function databaseProxy (t: { teardown: (fn: () => unknown) => void }): Promise<{ proxy: TcpProxy, direct: string, through: string }> {
  const url = new URL(process.env.DATABASE_URL as string)
  const proxy = await startProxy({ host: url.hostname, port: Number(url.port === '' ? 5432 : url.port) })
  t.teardown(() => proxy.close())
  const through = new URL(url)
  through.port = String(proxy.port)
  return { proxy, direct: url.toString(), through: through.toString() }
}
