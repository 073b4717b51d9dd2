// Bad arguments: a clear message, a documented exit code, nothing written.
// The plugin's options come from --config.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

// Each command opens the database afresh (most of a second on PGlite,
// more on a busy machine): more time than the suite's default.
t.setTimeout(360_000)

t.test('refused and malformed commands write nothing', async (t) => {
  const world = await cliWorld(t)
  const { cli } = world
  t.equal((await cli('grant', 'user:alice', 'read', 'document', '1')).code, 0)
  const before = await grantsOf(world)

  const cases: Array<{ args: string[], code: number, message: RegExp }> = [
    { args: ['grant', 'robot:x', 'read', 'document', '1'], code: 2, message: /grantee 'robot:x': expected 'user:ID', 'group:ID' or 'anonymous'/ },
    { args: ['grant', 'user:bob', 'read', 'document'], code: 2, message: /give the resource id, or --type-level/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--type-level'], code: 2, message: /not both/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--expires', 'tomorrow'], code: 2, message: /--expires 'tomorrow': expected an ISO 8601 date/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--expires', '2030-01-01T10:00'], code: 2, message: /with offset/ },
    { args: ['grant', 'user:bob', 'read'], code: 2, message: /missing required argument 'resource'/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--colour'], code: 2, message: /unknown option '--colour'/ },
    { args: ['grnat'], code: 2, message: /unknown command 'grnat'/ },
    { args: ['grant', 'user:bob', 'fly', 'document', '1'], code: 3, message: /invalid grant: privilege must be one of read, edit, delete, manage \(got "fly"\)/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--expires', '2020-01-01'], code: 3, message: /expiresAt must be in the future/ },
    { args: ['grant', 'user:alice', 'read', 'documnet', 'd03'], code: 3, message: /resource "documnet" is not a known resource type \(did you mean "document"\?\); known: document, folder, group, page/ },
    { args: ['grant', 'anonymous', 'edit', 'document', '1'], code: 3, message: /may not hold this privilege/ },
    { args: ['grant', 'user:bob', 'read', 'document', '1', '--starts', '2030-01-02', '--expires', '2030-01-01'], code: 3, message: /startsAt must be before expiresAt/ },
    { args: ['grant', 'user:bob', 'read', 'document', 'x'.repeat(300)], code: 3, message: /id must be a non-empty string of at most 256 characters/ },
    { args: ['revoke', 'user:alice', 'read', 'document'], code: 2, message: /--type-level/ },
    { args: ['members', 'add', 'staff', 'anonymous'], code: 2, message: /member 'anonymous': expected 'user:ID' or 'group:ID'/ },
    { args: ['members', 'add', 'staff', 'group:staff'], code: 3, message: /a group cannot be a member of itself/ },
    { args: ['purge-expired', '--batch-size', '0'], code: 2, message: /--batch-size '0': expected a whole number from 1 to 10000/ },
    { args: ['list'], code: 2, message: /give a resource/ },
    { args: ['explain', 'group:staff', 'document', '1'], code: 2, message: /principal 'group:staff': expected 'user:ID' or 'anonymous'/ }
  ]
  for (const { args, code, message } of cases) {
    const out = await cli(...args)
    t.equal(out.code, code, `${args.join(' ')} exits ${code}`)
    t.match(out.stderr, message, args.join(' '))
  }
  const json = await cli('grant', 'user:bob', 'fly', 'document', '1', '--json')
  t.match(json.json, { error: { exitCode: 3, code: 'FST_DEFAULT_DENY_INVALID_GRANT', message: /privilege must be one of read, edit, delete, manage \(got "fly"\)/ } }, 'errors are JSON too with --json')
  t.same(await grantsOf(world), before, 'nothing was written')
})

t.test('--config: the plugin options of the app; bad ones are usage errors', async (t) => {
  const world = await cliWorld(t)
  const { cli, dir } = world
  const config = join(dir, 'authz.config.mjs')
  await writeFile(config, "export default { privileges: ['read', 'publish'], implies: { publish: ['read'] }, resources: ['page'] }\n")
  t.equal((await cli('grant', 'user:ed', 'publish', 'page', 'home')).code, 3, 'publish is not a default privilege')
  const granted = await cli('--config', config, 'grant', 'user:ed', 'publish', 'page', 'home', '--json')
  t.equal(granted.code, 0, granted.stderr)
  t.equal(granted.json.created, true)
  const read = await cli('--config', config, 'explain', 'user:ed', 'page', 'home', '--privilege', 'read', '--json')
  t.equal(read.json.decision, 'allow', 'implies from the config')

  const broken = join(dir, 'broken.mjs')
  await writeFile(broken, "export default { privileges: 'read' }\n")
  const bad = await cli('--config', broken, 'list', 'page', 'home')
  t.equal(bad.code, 2)
  t.match(bad.stderr, /config: option 'privileges'/)
  const missing = await cli('--config', join(dir, 'nope.mjs'), 'list', 'page', 'home')
  t.equal(missing.code, 2)
  t.match(missing.stderr, /--config .*nope\.mjs/)
})

t.test('without migrations: exit 1 and the way out', async (t) => {
  const { cli } = await cliWorld(t, { migrate: false })
  const out = await cli('list', 'document', '1')
  t.equal(out.code, 1)
  t.match(out.stderr, /does not exist.*run: fastify-default-deny migrate up/)
})
