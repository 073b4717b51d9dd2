// The grant API's shapes are TypeBox schemas (lib/shapes/grant-api.ts), but
// what the validator, the serializer and an OpenAPI document see must stay
// plain JSON schema: TypeBox's own marks are not enumerable, and an answer's
// schema says no `required`, which the serializer would enforce by throwing.
import t from 'tap'
import { buildSchemas } from '../../lib/http/schemas.js'
import { buildSharedSchemas } from '../../lib/http/shared-schemas.js'

const settings = { maxIdLength: 200, privileges: new Set(['read', 'edit', 'delete', 'manage']) }
const REQUESTS = new Set(['GranteeInput'])

function keysIn (value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysIn(item, found)
  else if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      found.add(key)
      keysIn(inner, found)
    }
  }
  return found
}

t.test('every schema is plain JSON schema: a JSON round trip changes nothing, no TypeBox key shows', async (t) => {
  const all = { requests: buildSchemas(), shared: buildSharedSchemas(settings) }
  t.same(JSON.parse(JSON.stringify(all)), all)
  t.same([...keysIn(all)].filter((key) => key.startsWith('~')), [])
})

t.test('no answer schema says required: the serializer would throw on a missing field', async (t) => {
  for (const schema of buildSharedSchemas(settings)) {
    const name = schema.$id.slice(schema.$id.lastIndexOf('.') + 1)
    if (REQUESTS.has(name)) continue
    t.notOk(keysIn(schema).has('required'), name)
  }
})

t.test('each call builds fresh objects: Fastify marks the schemas it compiles', async (t) => {
  t.not(buildSchemas().addBody, buildSchemas().addBody)
  t.not(buildSchemas().addBody.properties.privilege, buildSchemas().addBody.properties.privilege)
  const [first, second] = [buildSharedSchemas(settings), buildSharedSchemas(settings)]
  t.not(first[6], second[6])
  t.same(first, second)
})
