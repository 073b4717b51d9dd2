// The error catalogue, the README table and the public types must agree.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { codes } from '../../lib/index.js'

t.test('every code is documented and typed, and nothing else is', async (t) => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8')
  const types = await readFile(new URL('../../fastify-plugin.d.ts', import.meta.url), 'utf8')
  const exported = Object.keys(codes).sort()
  const documented = [...readme.matchAll(/^\| `(FST_DEFAULT_DENY_[A-Z_]+)` \| (\d{3}) \|/gm)]
  const typed = [...types.matchAll(/^\s+(FST_DEFAULT_DENY_[A-Z_]+):/gm)].map((m) => m[1]).sort()

  t.same(documented.map((m) => m[1]).sort(), exported, 'README errors table lists exactly the exported codes')
  t.same(typed, exported, 'fastify-plugin.d.ts lists exactly the exported codes')
  for (const [, code, status] of documented) {
    const err = new (codes as Record<string, new (...args: string[]) => Error & { statusCode: number, code: string }>)[code as string]!('a', 'b')
    t.equal(err.code, code)
    t.equal(String(err.statusCode), status, `${code} status matches the README`)
  }
})
