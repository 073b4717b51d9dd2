// Endpoint rules that defeat themselves: a whitelist of every address, and
// diagnostics or lockout left on in production. Read from the rules in
// force, so a reload changes the answer.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { EndpointRules } from '../../fastify-plugin.js'
import { ids, inProduction, secured } from '../security-helper.js'

const RULE_FINDINGS = ['rules-whitelist-everyone', 'rules-diagnostics-on', 'rules-lockout-on']
const ruleFindings = async (app: FastifyInstance) => ids(await app.permissions.checkSecurity()).filter((id) => RULE_FINDINGS.includes(id))

const withList = (list: string[], deny = false): EndpointRules => ({
  paths: { 'admin/': 'office', 'other/': 'local' },
  groups: { office: { type: 'whitelist', list, deny }, local: { type: 'whitelist', list: ['127.0.0.1'] } }
})

t.test('a whitelist of 0.0.0.0/0 or ::/0 lets everyone in', async (t) => {
  for (const list of [['0.0.0.0/0'], ['10.0.0.0/8', '::/0']]) {
    const app = await secured(t, { plugin: { rules: withList(list) } })
    await app.ready()
    const findings = await app.permissions.checkSecurity()
    t.same(ids(findings).filter((id) => RULE_FINDINGS.includes(id)), ['rules-whitelist-everyone'], JSON.stringify(list))
    t.match(findings.find((finding) => finding.id === 'rules-whitelist-everyone')?.message, /group\(s\): office$/)
  }
})

t.test('narrow whitelists, and a blacklist of everyone, are not findings', async (t) => {
  for (const [list, deny] of [[['10.0.0.0/8', '192.168.1.0/24', '::1'], false], [['0.0.0.0/0'], true]] as const) {
    const app = await secured(t, { plugin: { rules: withList([...list], deny) } })
    await app.ready()
    t.same(await ruleFindings(app), [], `${JSON.stringify(list)} deny: ${deny}`)
  }
})

t.test('the rules in force are judged: a reload changes the answer', async (t) => {
  const app = await secured(t, { plugin: { rules: withList(['10.0.0.0/8']) } })
  await app.ready()
  t.same(await ruleFindings(app), [])
  await app.permissions.reloadRules(withList(['0.0.0.0/0']))
  t.same(await ruleFindings(app), ['rules-whitelist-everyone'])
})

t.test('diagnostics and lockout on in production', async (t) => {
  inProduction(t)
  const acknowledge = ['db-superuser', 'no-https'] as const
  const base = withList(['10.0.0.0/8'])
  for (const [settings, expected] of [
    [{ diagnostics: true }, ['rules-diagnostics-on']],
    [{ lockout: true }, ['rules-lockout-on']],
    [{ diagnostics: true, lockout: true }, ['rules-diagnostics-on', 'rules-lockout-on']],
    [{ diagnostics: false, lockout: false }, []]
  ] as const) {
    const app = await secured(t, { plugin: { rules: { ...base, settings }, acknowledge: [...acknowledge] } })
    await app.ready()
    t.same(await ruleFindings(app), expected, JSON.stringify(settings))
  }
})

t.test('diagnostics and lockout outside production are not findings', async (t) => {
  const app = await secured(t, { plugin: { rules: { ...withList(['10.0.0.0/8']), settings: { diagnostics: true, lockout: true } } } })
  await app.ready()
  t.same(await ruleFindings(app), [])
})
