// The admin page says what was wrong with what it sent: a 400's field and
// rule, in the server's words, as text.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { page, problems } = served

  t.test('a typo in the resource type is named, with the type meant', async (t) => {
    await open(served, '#/resource?type=documnet&id=d1', 'root', { su: true })
    const said = await says(page, 'The request was not accepted', 'alert')
    t.match(said, 'resource "documnet" is not a known resource type (did you mean "document"?)')
    t.equal(await page.getByRole('table').count(), 0, 'no grants shown')
  })

  t.test('no page error', async (t) => {
    t.same(problems, [])
  })
}
