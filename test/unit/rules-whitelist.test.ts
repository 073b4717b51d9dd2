// Behaviour 45 (D14): whitelist/blacklist matching on strictly parsed IPs.
import t from 'tap'
import { single } from '../fixtures/rules/helpers.js'

const allowed = (list: string[], ip: string, deny = false): boolean =>
  single({ type: 'whitelist', list, ...(deny ? { deny: true } : {}) })({ ip }).allow

t.test('exact IPv4 and IPv6', async t => {
  t.equal(allowed(['127.0.0.1'], '127.0.0.1'), true)
  t.equal(allowed(['127.0.0.1'], '127.0.0.2'), false)
  t.equal(allowed(['2001:db8::1'], '2001:db8::1'), true)
  t.equal(allowed(['2001:db8::1'], '2001:0db8:0000::0001'), true, 'IPv6 compared by value, not text')
  t.equal(allowed(['2001:DB8::1'], '2001:db8::1'), true)
  t.equal(allowed(['2001:db8::1'], '2001:db8::2'), false)
  t.equal(allowed(['fe80::1'], 'fe80::1%eth0'), true, 'zone ignored')
})

t.test('localhost means 127.0.0.1 and ::1 only', async t => {
  t.equal(allowed(['localhost'], '127.0.0.1'), true)
  t.equal(allowed(['localhost'], '::1'), true)
  t.equal(allowed(['localhost'], '::ffff:127.0.0.1'), true)
  t.equal(allowed(['localhost'], '127.0.0.2'), false, 'not the whole loopback block')
  t.equal(allowed(['localhost'], '10.0.0.1'), false)
  t.equal(allowed(['localhost'], 'localhost'), false, 'the client address is never a name')
})

t.test('IPv4-mapped IPv6 counts as the IPv4 address', async t => {
  t.equal(allowed(['127.0.0.1'], '::ffff:127.0.0.1'), true)
  t.equal(allowed(['127.0.0.1'], '::FFFF:7f00:1'), true)
  t.equal(allowed(['::ffff:10.1.2.3'], '10.1.2.3'), true, 'mapped form in the list too')
  t.equal(allowed(['192.168.0.1-255'], '::ffff:192.168.0.77'), true)
  t.equal(allowed(['10.0.0.0/8'], '::ffff:10.9.9.9'), true)
  t.equal(allowed(['127.0.0.1'], '::127.0.0.1'), false, 'IPv4-compatible form is not mapped')
  t.equal(allowed(['127.0.0.1'], '0:0:0:0:0:ffff:127.0.0.1'), true, 'uncompressed mapped form')
  t.equal(allowed(['127.0.0.1'], '::127.0.0.1', true), false, 'and does not parse, so it fails a blacklist too')
})

t.test('last-octet ranges (faithful to ARDI)', async t => {
  const list = ['192.168.0.1-255']
  t.equal(allowed(list, '192.168.0.1'), true)
  t.equal(allowed(list, '192.168.0.200'), true)
  t.equal(allowed(list, '192.168.0.255'), true)
  t.equal(allowed(list, '192.168.0.0'), false, '.0 is outside 1-255')
  t.equal(allowed(list, '192.168.1.5'), false)
  t.equal(allowed(['10.10.2.5-5'], '10.10.2.5'), true)
  t.equal(allowed(['10.10.2.5-5'], '10.10.2.6'), false)
  t.equal(allowed(['10.10.2.10-20'], '10.10.2.9'), false)
  t.equal(allowed(['10.10.2.10-20'], '10.10.2.21'), false)
})

t.test('CIDR (extension)', async t => {
  t.equal(allowed(['10.0.0.0/8'], '10.255.1.2'), true)
  t.equal(allowed(['10.0.0.0/8'], '11.0.0.1'), false)
  t.equal(allowed(['fd00::/8'], 'fd12:3456::1'), true)
  t.equal(allowed(['fd00::/8'], 'fe80::1'), false)
  t.equal(allowed(['0.0.0.0/0'], '8.8.8.8'), true)
  t.equal(allowed(['0.0.0.0/0'], '2001:db8::1'), false, 'an IPv4 block never matches IPv6')
  t.equal(allowed(['::/0'], '127.0.0.1'), false, 'an IPv6 block never matches IPv4')
})

t.test('client addresses must parse strictly', async t => {
  const list = ['127.0.0.1', '10.0.0.0/8']
  for (const ip of ['2130706433', '0x7f.0.0.1', '0x7f.1', '127.1', '0177.0.0.1', '127.000.0.1', '127.0.0.1 ', ' 127.0.0.1',
    '127.0.0.1:80', 'localhost', '', 'unknown', '::ffff:127.1', '::ffff:0x7f.0.0.1', '::ffff:0127.0.0.1', '::ffff:127.000.0.1',
    '[::1]', '10.0.0.1, 127.0.0.1']) {
    t.equal(allowed(list, ip), false, `whitelist refuses ${JSON.stringify(ip)}`)
  }
  t.equal(allowed(list, '10.1.2.3'), true)
})

t.test('deny: true turns the list into a blacklist, failing closed', async t => {
  t.equal(allowed(['10.0.0.0/8'], '10.1.2.3', true), false)
  t.equal(allowed(['10.0.0.0/8'], '192.0.2.1', true), true)
  t.equal(allowed(['127.0.0.1'], '::ffff:127.0.0.1', true), false, 'mapped form cannot dodge a blacklist')
  t.equal(allowed(['192.168.0.1-255'], '192.168.0.9', true), false)
  for (const ip of ['2130706433', '127.1', '0x7f.1', 'junk', '']) {
    t.equal(allowed(['127.0.0.1'], ip, true), false, `blacklist refuses unparseable ${JSON.stringify(ip)}`)
  }
})

t.test('the default file: local group', async t => {
  const local = single({ type: 'whitelist', list: ['127.0.0.1', 'localhost'] })
  t.equal(local({ ip: '127.0.0.1' }).allow, true)
  t.equal(local({ ip: '::1' }).allow, true)
  t.equal(local({ ip: '192.168.0.5' }).allow, false)
  t.match(local({ ip: '192.168.0.5' }), { reason: 'rule', ruleType: 'whitelist', group: 'g', pathKey: 'x/' })
})
