// Writes schema/policy-test.schema.json, the published copy of the fixture
// schema (lib/testing/fixture-schema.ts) that editors complete from:
//   npx tsx scripts/policy-test-schema.mts
// test/policy/fixture-schema-file.test.ts fails when the two differ.
import { writeFile } from 'node:fs/promises'
import { FIXTURE_SCHEMA } from '../lib/testing/fixture-schema.js'

await writeFile(new URL('../schema/policy-test.schema.json', import.meta.url), `${JSON.stringify(FIXTURE_SCHEMA, null, 2)}\n`)
