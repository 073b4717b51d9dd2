// The decision cache as the plugin sets it up: the cache, the check through
// it, what the instance's own writes tell it, and the feed of everyone's
// committed changes it lives on.
import type { CacheStats } from '../../fastify-plugin.js'
import { codes } from '../errors.js'
import { changeChannel } from '../store/channel.js'
import type { Database } from '../store/database.js'
import { insertPosition } from '../store/positions.js'
import type { GrantReader } from '../store/reader.js'
import { CachedCheck } from './cached-check.js'
import { localChanges } from './changes.js'
import { DecisionCache, type CacheLimits } from './decision-cache.js'
import { inProcessFeed, postgresFeed, type ChangeFeed, type FeedLog } from './listener.js'

/** The `cache` option, as lib/options/cache.ts resolves it. */
export interface CacheSettings extends CacheLimits {
  /** A direct connection for LISTEN; `null`: the plugin's `connectionString`, or the embedded database's own feed. */
  listenConnectionString: string | null
  /** The longest the cache serves after the LISTEN connection was last proven current, in milliseconds. */
  heartbeat: number
}

export interface CacheSetup {
  cached: CachedCheck
  changed: ReturnType<typeof localChanges>
  feed: ChangeFeed
  stats: () => CacheStats
}

export interface CacheProps {
  settings: CacheSettings
  /** The plugin's database: on the embedded one the feed is its in-process LISTEN. */
  database: Database
  /** The plugin's own connection string, when it owns the pool. */
  connectionString: string | null
  schema: string
  reader: GrantReader
  log: FeedLog
  /** With resource hierarchies: the types below each type (see `DecisionCache.below`). */
  below?: ReadonlyMap<string, readonly string[]>
}

export function createCache ({ settings, database, connectionString, schema, reader, log, below }: CacheProps): CacheSetup {
  const cache = new DecisionCache(settings, undefined, below)
  const { db, listen } = database
  const url = settings.listenConnectionString ?? connectionString
  let feed: ChangeFeed
  if (url !== null) feed = postgresFeed({ connectionString: url, schema, cache, log, heartbeat: settings.heartbeat })
  else if (listen !== null) feed = inProcessFeed(listen, changeChannel(schema), cache, async () => await insertPosition(db))
  else {
    throw new codes.FST_DEFAULT_DENY_INVALID_OPTION('cache.listenConnectionString',
      "is required with a 'db' of your own: the cache listens for changes on a connection of its own")
  }
  return {
    cached: new CachedCheck(cache, reader),
    changed: localChanges(cache),
    feed,
    stats: () => ({ on: cache.on, entries: cache.size, bytes: cache.bytes, ...cache.counters })
  }
}
