// The decision cache as the plugin sets it up: the cache, the check through
// it, what the instance's own writes tell it, and the feed of everyone's
// committed changes it lives on.
import type { Kysely } from 'kysely'
import type { CacheStats } from '../../fastify-plugin.js'
import type { CacheSettings } from '../cache-option.js'
import { invalid } from '../option-values.js'
import { changeChannel } from '../store/channel.js'
import { databaseOf } from '../store/database.js'
import { insertPosition } from '../store/positions.js'
import type { GrantReader } from '../store/reader.js'
import { CachedCheck } from './cached-check.js'
import { localChanges } from './changes.js'
import { DecisionCache } from './decision-cache.js'
import { inProcessFeed, postgresFeed, type ChangeFeed, type FeedLog } from './listener.js'

export interface CacheSetup {
  cached: CachedCheck
  changed: ReturnType<typeof localChanges>
  feed: ChangeFeed
  stats: () => CacheStats
}

export interface CacheProps {
  settings: CacheSettings
  db: Kysely<any>
  /** The plugin's own connection string, when it owns the pool. */
  connectionString: string | null
  schema: string
  reader: GrantReader
  log: FeedLog
}

export function createCache ({ settings, db, connectionString, schema, reader, log }: CacheProps): CacheSetup {
  const cache = new DecisionCache(settings)
  const { listen } = databaseOf(db)
  const url = settings.listenConnectionString ?? connectionString
  let feed: ChangeFeed
  if (url !== null) feed = postgresFeed({ connectionString: url, schema, cache, log, heartbeat: settings.heartbeat })
  else if (listen !== null) feed = inProcessFeed(listen, changeChannel(schema), cache, async () => await insertPosition(db))
  else invalid('cache.listenConnectionString', "is required with a 'db' of your own: the cache listens for changes on a connection of its own")
  return {
    cached: new CachedCheck(cache, reader),
    changed: localChanges(cache),
    feed,
    stats: () => ({ on: cache.on, entries: cache.size, bytes: cache.bytes, ...cache.counters })
  }
}
