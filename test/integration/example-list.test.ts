// The example's list route: what the caller may read, keyset pages and a
// total, the permission applied inside the one query.
import t from 'tap'
import { exampleApp } from '../helper.js'

t.test('GET /documents lists what the caller may read, a page at a time, with the total', async (t) => {
  const { app, auth } = await exampleApp(t)
  const carol = auth({ sub: 'carol' })
  const bob = auth({ sub: 'bob', groups: ['staff'] })

  const created: string[] = []
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/documents', headers: carol, payload: { title: `c${i}`, body: 'x' } })
    created.push(res.json().id)
  }
  created.sort()
  const list = async (headers: Record<string, string>, query = '') => (await app.inject({ url: `/documents${query}`, headers })).json()

  const first = await list(carol, '?limit=2')
  t.same(first.documents.map((d: { id: string }) => d.id), created.slice(0, 2))
  t.equal(first.total, 5, 'the total counts every readable row')
  const second = await list(carol, `?limit=2&after=${first.next}`)
  t.same(second.documents.map((d: { id: string }) => d.id), created.slice(2, 4))
  const last = await list(carol, `?limit=2&after=${second.next}`)
  t.same(last.documents.map((d: { id: string }) => d.id), created.slice(4))
  t.equal(last.next, null, 'no page after the last')

  const staff = await list(bob)
  t.same(staff.documents.map((d: { id: string }) => d.id), ['welcome'], 'bob reads only what staff may')
  t.equal(staff.total, 1)
  t.equal((await app.inject({ url: '/documents' })).statusCode, 401, 'anonymous callers are asked to sign in')
  t.equal((await app.inject({ url: '/documents?limit=500', headers: bob })).statusCode, 400)
})
