import t from 'tap'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import defaultDeny from '../../lib/index.js'
import { resolveOptions } from '../../lib/options/index.js'
import { SECRET, testDatabase } from '../helper.js'

t.test('each invalid option makes ready() fail with a coded error naming it', async (t) => {
  const { db, schema } = await testDatabase(t)
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['unknown option', { db, colour: 'red' }, /'colour' is not a known option/],
    ['no database', {}, /'db'/],
    ['both databases', { db, connectionString: 'postgres://x/y' }, /exactly one/],
    ['db not Kysely', { db: { query: () => {} } }, /'db' must be a Kysely instance/],
    ['bad url', { connectionString: 'mysql://x/y' }, /'connectionString'/],
    ['schema injection', { db, schema: 'x"; drop table y; --' }, /'schema'/],
    ['privileges empty', { db, schema, privileges: [] }, /'privileges'/],
    ['privileges upper case', { db, schema, privileges: ['Read'] }, /'privileges'/],
    ['privileges repeated', { db, schema, privileges: ['read', 'read'] }, /must not repeat/],
    ['implies unknown holder', { db, schema, implies: { write: ['read'] } }, /'implies' names unknown privilege 'write'/],
    ['implies unknown target', { db, schema, implies: { edit: ['view'] } }, /'implies.edit' names unknown privilege 'view'/],
    ['implies not object', { db, schema, implies: ['edit'] }, /'implies' must be an object/],
    ['ownerPrivileges unknown', { db, schema, ownerPrivileges: ['own'] }, /'ownerPrivileges' names unknown/],
    ['hideForbidden not boolean', { db, schema, hideForbidden: 'yes' }, /'hideForbidden' must be a boolean/],
    ['migrate not boolean', { db, schema, migrate: 1 }, /'migrate' must be a boolean/],
    ['userClaim empty', { db, schema, userClaim: '' }, /'userClaim'/],
    ['superuserClaim true', { db, schema, superuserClaim: true }, /'superuserClaim'/],
    ['resolvePrincipal not function', { db, schema, resolvePrincipal: 'x' }, /'resolvePrincipal' must be a function/],
    ['checkTimeout zero', { db, schema, checkTimeout: 0 }, /'checkTimeout'/],
    ['checkTimeout fraction', { db, schema, checkTimeout: 1.5 }, /'checkTimeout'/],
    ['writeTimeout zero', { db, schema, writeTimeout: 0 }, /'writeTimeout'/],
    ['writeTimeout string', { db, schema, writeTimeout: '100' }, /'writeTimeout'/],
    ['writeTimeout above ten minutes', { db, schema, writeTimeout: 600_001 }, /'writeTimeout'/],
    ['maxIdLength huge', { db, schema, maxIdLength: 1e9 }, /'maxIdLength'/],
    ['groupDepth too deep', { db, schema, groupDepth: 33 }, /'groupDepth'/],
    ['groupDepth negative', { db, schema, groupDepth: -1 }, /'groupDepth'/],
    ['groupDepth as text', { db, schema, groupDepth: '8' }, /'groupDepth'/],
    ['groupResource empty', { db, schema, groupResource: '' }, /'groupResource'/],
    ['groupResource not text', { db, schema, groupResource: 7 }, /'groupResource'/],
    ['anonymous manage', { db, schema, anonymousPrivileges: ['read', 'manage'] }, /'anonymousPrivileges' must not contain 'manage'/],
    ['anonymous unknown', { db, schema, anonymousPrivileges: ['view'] }, /'anonymousPrivileges' names unknown/],
    ['grantRoutes bad prefix', { db, schema, grantRoutes: { prefix: 'grants' } }, /'grantRoutes.prefix'/],
    ['grantRoutes unknown key', { db, schema, grantRoutes: { path: '/x' } }, /'grantRoutes' has unknown key 'path'/],
    ['grantRoutes securityScheme not a name', { db, schema, grantRoutes: { securityScheme: 'bearer auth' } }, /'grantRoutes.securityScheme'/],
    ['cache not an object', { db, schema, cache: 'yes' }, /'cache' must be true, false or an object/],
    ['cache unknown key', { db, schema, cache: { ttl: 1 } }, /'cache' has unknown key 'ttl'/],
    ['cache maxEntries zero', { db, schema, cache: { maxEntries: 0 } }, /'cache.maxEntries'/],
    ['cache maxAge fraction', { db, schema, cache: { maxAge: 1.5 } }, /'cache.maxAge'/],
    ['cache listen not a URL', { db, schema, cache: { listenConnectionString: 'mysql://x' } }, /'cache.listenConnectionString'/],
    ['canHold not function', { db, schema, canHold: true }, /'canHold' must be a function/],
    ['rules and rulesFile', { db, schema, rules: { paths: {}, groups: {} }, rulesFile: '/x' }, /exclusive/],
    ['watchRules without files', { db, schema, rules: { paths: {}, groups: {} }, watchRules: true }, /'watchRules'/],
    ['levels without rules', { db, schema, levels: ['a', 'b'] }, /'levels' only applies with endpoint rules/],
    ['lockoutStatus', { db, schema, lockoutStatus: 500 }, /'lockoutStatus'/],
    ['levelPrivileges unknown privilege', { db, schema, levelPrivileges: { reader: ['view'] } }, /'levelPrivileges.reader' names unknown/]
  ]
  for (const [name, options, message] of cases) {
    const app = Fastify()
    await app.register(jwt, { secret: SECRET })
    app.register(defaultDeny, options as never)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_INVALID_OPTION', message }, name)
    await app.close()
  }
})

t.test('defaults are applied and frozen', async (t) => {
  const { db } = await testDatabase(t)
  const settings = resolveOptions({ db })
  t.same([...settings.policy.privileges], ['read', 'edit', 'delete', 'manage'], 'manage is always known')
  t.same([...settings.policy.ownerPrivileges], ['read', 'edit', 'delete', 'manage'])
  t.same([...settings.grants.anonymousPrivileges], ['read'])
  t.same(settings.grantRoutes, { prefix: '/permissions', securityScheme: null })
  t.equal(settings.grants.allowManageDelegation, false)
  t.equal(settings.database.schema, 'public')
  t.equal(settings.enforcement.hideForbidden, false)
  t.equal(settings.principal.superuserClaim, false)
  t.equal(settings.enforcement.checkTimeout, 2000)
  t.equal(settings.enforcement.maxIdLength, 256)
  t.equal(settings.groups.groupDepth, 8)
  t.equal(settings.groups.groupResource, 'group')
  t.same([...settings.policy.satisfiedBy.get('read') ?? []], ['read'], 'privileges are independent by default')
  t.ok(Object.isFrozen(settings))
  t.same([...resolveOptions({ db, ownerPrivileges: [] }).policy.ownerPrivileges], [], 'owners may hold nothing extra')
})

t.test('the plugin needs @fastify/jwt', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  app.register(defaultDeny, { db, schema })
  await t.rejects(async () => { await app.ready() }, /jwtVerify|@fastify\/jwt/)
  await app.close()
})

t.test('registering twice on one instance is an error', async (t) => {
  const { db, schema } = await testDatabase(t)
  const app = Fastify()
  await app.register(jwt, { secret: SECRET })
  await app.register(defaultDeny, { db, schema })
  app.register(defaultDeny, { db, schema })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_DEFAULT_DENY_ALREADY_REGISTERED' })
  await app.close()
})
