// Behaviour 50 over real mutual TLS: a `cert` rule passes only for a client
// certificate the server verified against its CA, and `name` must match the
// whole subject CN. The CA, server and client certificates are generated for
// this run with the openssl CLI.
import t, { type Test } from 'tap'
import type { FastifyServerOptions } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { build } from '../helper.js'
import { listen, makePki, request, type KeyPair, type Response } from '../fixtures/tls/helpers.js'

const RULES: EndpointRules = {
  paths: {
    'anycert/': 'anycert',
    'sensors/': 'sensors',
    'literal/': 'literal',
    'local-sensors/': 'localsensors'
  },
  groups: {
    anycert: { type: 'cert' },
    sensors: { type: 'cert', name: 'com\\.mycompany\\..*' },
    // The ARDI page's own example, written as a prefix glob; evaluated anchored.
    literal: { type: 'cert', name: 'com.mycompany.*' },
    localsensors: [{ type: 'whitelist', list: ['127.0.0.1'] }, { type: 'cert', name: 'com\\.mycompany\\..*' }]
  },
  settings: { diagnostics: true }
}

// One PKI for the whole file: RSA key generation is the slow part.
const pki = makePki(t)
const clients = {
  sensor: pki.client('com.mycompany.sensor1'),
  evil: pki.client('evil.com.mycompany.x'),
  other: pki.client('org.other.device'),
  untrusted: pki.client('com.mycompany.sensor1', true)
}

async function setup (t: Test) {
  const https = { ...pki.server, ca: [pki.ca.cert], requestCert: true, rejectUnauthorized: false }
  const { app } = await build(t, { rules: RULES }, { https } as unknown as FastifyServerOptions)
  const ran: string[] = []
  for (const path of ['/anycert/x', '/sensors/x', '/literal/x', '/local-sensors/x']) {
    app.get(path, { config: { permission: 'public' } }, async () => { ran.push(path); return { ok: true } })
  }
  const port = await listen(app)
  const get = (path: string, client?: KeyPair, extra: { session?: Buffer, keepSession?: boolean, localAddress?: string } = {}) =>
    request({ port, path, https: true, ...client, ...extra })
  return { get, ran }
}

function denied (t: Test, res: Response, what: string): void {
  t.equal(res.status, 403, what)
  t.equal(res.json()?.code, 'FST_DEFAULT_DENY_RULE_DENIED', `${what}: code`)
  t.match(res.json()?.message, /rule 'cert'/, `${what}: the cert rule refused it`)
}

t.test('a cert rule passes only for a certificate signed by the trusted CA', async t => {
  const { get, ran } = await setup(t)
  t.equal((await get('/anycert/x', clients.sensor)).status, 200, 'trusted client certificate')
  t.equal((await get('/anycert/x', clients.other)).status, 200, 'any trusted certificate, without name')
  t.same(ran, ['/anycert/x', '/anycert/x'])
  ran.length = 0
  denied(t, await get('/anycert/x', clients.untrusted), 'self-signed certificate with the right CN')
  denied(t, await get('/anycert/x'), 'no certificate')
  t.same(ran, [], 'the handler did not run')
})

t.test('name must match the whole subject CN (behaviour 50)', async t => {
  const { get, ran } = await setup(t)
  t.equal((await get('/sensors/x', clients.sensor)).status, 200, 'com.mycompany.sensor1')
  t.equal((await get('/literal/x', clients.sensor)).status, 200, 'com.mycompany.sensor1 against com.mycompany.*')
  t.same(ran, ['/sensors/x', '/literal/x'])
  ran.length = 0
  for (const path of ['/sensors/x', '/literal/x']) {
    denied(t, await get(path, clients.evil), `${path}: evil.com.mycompany.x (trusted CA, CN only contains the name)`)
    denied(t, await get(path, clients.other), `${path}: org.other.device`)
    denied(t, await get(path, clients.untrusted), `${path}: untrusted certificate with a matching CN`)
    denied(t, await get(path), `${path}: no certificate`)
  }
  t.same(ran, [], 'the handlers did not run')
})

t.test('cert combined with a whitelist needs both', async t => {
  const { get, ran } = await setup(t)
  t.equal((await get('/local-sensors/x', clients.sensor)).status, 200, 'local, with the certificate')
  const remote = await get('/local-sensors/x', clients.sensor, { localAddress: '127.0.0.2' })
  t.equal(remote.status, 403, 'remote, with the certificate')
  t.match(remote.json()?.message, /rule 'whitelist'/)
  denied(t, await get('/local-sensors/x'), 'local, without a certificate')
  t.same(ran, ['/local-sensors/x'])
})

t.test('a resumed TLS session keeps the verification of the session it resumes', async t => {
  const { get, ran } = await setup(t)
  const trusted = await get('/sensors/x', clients.sensor, { keepSession: true })
  t.equal(trusted.status, 200)
  t.ok(trusted.session, 'the server issued a session ticket')
  // Only the holder of the session's secret can resume it, and the session
  // remembers the verified certificate: this is the same client.
  t.equal((await get('/sensors/x', undefined, { session: trusted.session })).status, 200, 'resumed trusted session, no certificate sent')

  const untrusted = await get('/sensors/x', clients.untrusted, { keepSession: true })
  t.equal(untrusted.status, 403)
  denied(t, await get('/sensors/x', undefined, { session: untrusted.session }), 'resumed untrusted session')
  const evil = await get('/sensors/x', clients.evil, { keepSession: true })
  t.equal(evil.status, 403)
  denied(t, await get('/sensors/x', undefined, { session: evil.session }), 'resumed session of a non-matching CN')
  t.same(ran, ['/sensors/x', '/sensors/x'])
})

t.test('over plain HTTP a cert rule always fails', async t => {
  const { app } = await build(t, { rules: RULES })
  let ran = 0
  app.get('/anycert/x', { config: { permission: 'public' } }, async () => { ran++; return 'x' })
  const port = await listen(app)
  denied(t, await request({ port, path: '/anycert/x' }), 'plain HTTP')
  t.equal(ran, 0)
})
