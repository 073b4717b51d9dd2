// The decision cache's options for a test app: on PostgreSQL the test's own
// pool is the host's, so the cache is told where to LISTEN.
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
