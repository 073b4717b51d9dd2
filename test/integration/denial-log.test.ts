// A denial is logged at info with what was asked for (route, resource, id,
// privilege, who), so a developer sees why a request got 403, and never with
// the token.
import t from 'tap'
import { LogController } from 'fastify'
import { build, logCapture } from '../helper.js'

t.test('a denial says what was asked for and who asked, never the token', async (t) => {
  const capture = logCapture('info')
  const { app, as } = await build(t, {}, { logger: capture.logger, logController: new LogController({ disableRequestLogging: true }) })
  app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'edit' } } }, async () => 'ok')
  await app.ready()
  const headers = as('carol')
  t.equal((await app.inject({ url: '/documents/d%2042', headers })).statusCode, 403)
  const denial = capture.lines.find((line) => line.msg === 'fastify-default-deny: denied')
  t.match(denial, { level: 30, route: '/documents/:id', principal: 'carol', resource: 'document', id: 'd 42', privilege: 'edit' })
  const token = headers.authorization.slice('Bearer '.length)
  t.notOk(capture.lines.some((line) => JSON.stringify(line).includes(token)), 'no line carries the token')
})
