// The database side: what the connection string says about TLS and the
// host, what the server says about the role and the session (one catalog
// query), and a database that cannot be asked.
import t from 'tap'
import { connectionFacts } from '../../lib/security/gather.js'
import { readDatabaseFacts } from '../../lib/store/security.js'
import { testDatabase, usingPostgres } from '../helper.js'
import { ids, secured } from '../security-helper.js'

t.test('the connection string: host and TLS as node-postgres reads them', async (t) => {
  const cases: Array<[string, Record<string, string>, { host: string, local: boolean, tls: boolean }]> = [
    ['postgres://app@127.0.0.1:5432/db', {}, { host: '127.0.0.1', local: true, tls: false }],
    ['postgres://app@localhost/db', {}, { host: 'localhost', local: true, tls: false }],
    ['postgres://app@[::1]:5432/db', {}, { host: '[::1]', local: true, tls: false }],
    ['postgres:///db?host=/var/run/postgresql', {}, { host: '/var/run/postgresql', local: true, tls: false }],
    ['postgres://app@db.internal/db', {}, { host: 'db.internal', local: false, tls: false }],
    ['postgres://app@db.internal/db?sslmode=disable', { PGSSLMODE: 'require' }, { host: 'db.internal', local: false, tls: false }],
    ['postgres://app@db.internal/db?sslmode=require', {}, { host: 'db.internal', local: false, tls: true }],
    ['postgresql://app@db.internal/db?sslmode=verify-full', {}, { host: 'db.internal', local: false, tls: true }],
    ['postgres://app@db.internal/db?ssl=true', {}, { host: 'db.internal', local: false, tls: true }],
    ['postgres://app@db.internal/db?sslrootcert=/etc/ca.pem', {}, { host: 'db.internal', local: false, tls: true }],
    ['postgres://app@db.internal/db', { PGSSLMODE: 'verify-full' }, { host: 'db.internal', local: false, tls: true }],
    ['postgres://app@db.internal/db', { PGSSLMODE: 'disable' }, { host: 'db.internal', local: false, tls: false }],
    ['postgres://app@10.1.2.3/db?ssl=0', { PGSSLMODE: 'require' }, { host: '10.1.2.3', local: false, tls: false }]
  ]
  for (const [url, env, expected] of cases) t.same(connectionFacts(url, env), expected, `${url} ${JSON.stringify(env)}`)
  t.equal(connectionFacts('postgres://%zz@[bad'), null, 'a URL that does not parse says nothing')
})

t.test('the role and the session, from the server', async (t) => {
  const { db, schema } = await testDatabase(t)
  const facts = await readDatabaseFacts(db, schema)
  t.type(facts.role, 'string')
  t.same(facts.attributes.every((attribute) => ['createrole', 'createdb', 'bypassrls', 'replication'].includes(attribute)), true)
  t.equal(facts.ownsTables, false, 'before migrations there is nothing to own')
  t.equal(facts.auditWritable, false)
  if (usingPostgres) {
    t.equal(facts.embedded, false)
    t.equal(facts.superuser, true, 'the tests connect as postgres')
    t.equal(facts.tls, false, 'the local test server is reached without TLS')
    t.equal(facts.serverAddress, '127.0.0.1')
  } else {
    t.equal(facts.embedded, true, 'PGlite is recognised as embedded')
    t.equal(facts.serverAddress, null)
  }
})

t.test('findings from the real database', async (t) => {
  const app = await secured(t)
  await app.ready()
  const found = ids(await app.permissions.checkSecurity())
  if (usingPostgres) {
    t.ok(found.includes('db-superuser'), 'connected as a superuser')
    t.notOk(found.includes('db-role-too-broad'), 'a superuser is reported once')
  } else {
    t.same(found.filter((id) => id.startsWith('db-')), [], 'embedded: no database finding')
  }
  t.notOk(found.includes('db-no-tls'), 'a local server without TLS is fine')
})

t.test('a database that cannot be asked: db-unchecked, and the URL still tells about TLS', async (t) => {
  // TEST-NET-1 is never routed: the connection attempt runs out after checkTimeout.
  const app = await secured(t, { plugin: { connectionString: 'postgres://app@192.0.2.1:5432/none', migrate: false, checkTimeout: 300, db: undefined } })
  const started = Date.now()
  await app.ready()
  t.ok(Date.now() - started < 5000, 'ready does not wait for the database')
  const findings = await app.permissions.checkSecurity()
  t.same(ids(findings).filter((id) => id.startsWith('db-')), ['db-no-tls', 'db-unchecked'])
  const local = await secured(t, { plugin: { connectionString: 'postgres://app@127.0.0.1:1/none', migrate: false, checkTimeout: 300, db: undefined } })
  await local.ready()
  t.same(ids(await local.permissions.checkSecurity()).filter((id) => id.startsWith('db-')), ['db-unchecked'], 'loopback without TLS is fine')
})
