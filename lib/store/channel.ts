import { createHash } from 'node:crypto'

// Part of the stored schema: the change-notification migration writes the
// name this returns into its trigger functions, and the decision cache
// listens on it. One channel per schema, so that instances of different
// schemas on one database never see each other's changes. A name must fit in
// an identifier (63 bytes); a longer schema name is hashed.
export function changeChannel (schema: string): string {
  const plain = `default_deny.${schema}`
  return Buffer.byteLength(plain) <= 63 ? plain : `default_deny.${createHash('md5').update(schema).digest('hex')}`
}

/** The channel as an SQL identifier, for LISTEN. */
export function quotedChannel (schema: string): string {
  return `"${changeChannel(schema).replace(/"/g, '""')}"`
}
