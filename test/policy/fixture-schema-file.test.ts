// The published schema (schema/policy-test.schema.json, for editors) is the
// one the loader validates with: regenerate it with
// `npx tsx scripts/policy-test-schema.mts` after changing the fixture's shape.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { FIXTURE_SCHEMA } from '../../lib/testing/fixture-schema.js'

t.test('schema/policy-test.schema.json is the loader\'s schema', async (t) => {
  const published = JSON.parse(await readFile(new URL('../../schema/policy-test.schema.json', import.meta.url), 'utf8'))
  t.same(published, JSON.parse(JSON.stringify(FIXTURE_SCHEMA)))
})

t.test('the package publishes it and exports it', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  t.ok(pkg.files.includes('schema'))
  t.equal(pkg.exports['./schema/policy-test.schema.json'], './schema/policy-test.schema.json')
  t.same(pkg.exports['./testing'], { types: './dist/lib/testing/index.d.ts', default: './dist/lib/testing/index.js' })
})
