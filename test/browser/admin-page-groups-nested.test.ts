// Groups in Chromium: nested groups are links to their own members, a
// group's access is one click away, and a membership refused by the API is
// said in the page's sentence for that refusal.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'

const HOSTILE = '<img src=x onerror="window.__pwned=1">'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser, { maxMembershipChange: 3 })
  const { page } = served
  const p = served.app.permissions
  for (const group of ['editors', 'interns', HOSTILE]) await p.setOwner({ resource: 'group', id: group, owner: 'olga' })
  await p.addMember({ group: 'editors', member: { kind: 'group', id: 'interns' } })
  await p.addMember({ group: 'editors', member: { kind: 'group', id: HOSTILE } })
  await p.addMember({ group: 'interns', member: { kind: 'user', id: 'ivan' } })
  await p.grant({ grantee: { kind: 'group', id: 'editors' }, resource: 'document', id: 'd1', privilege: 'edit' })

  t.test('a nested group is a link to its members; the group\'s access is a link away', async (t) => {
    await open(served, '#/groups?group=editors', 'olga')
    await page.getByRole('heading', { name: 'Members of editors' }).waitFor()
    t.ok(await page.getByRole('link', { name: `group ${HOSTILE}` }).isVisible(), 'a hostile group id, as the text of a link')
    await page.getByRole('link', { name: 'group interns' }).click()
    await page.getByRole('heading', { name: 'Members of interns' }).waitFor()
    t.ok(await page.getByRole('row', { name: /^user ivan/ }).isVisible(), 'the nested group\'s own members')
    await page.getByRole('link', { name: 'What interns gives its members' }).click()
    const question = page.getByRole('form', { name: 'Ask about access' })
    await question.getByLabel('Resource type').fill('document')
    await question.getByRole('button', { name: 'Show access' }).click()
    await page.getByRole('heading', { name: 'What group interns may read of type document' }).waitFor()
    await page.getByLabel('Counting as use').selectOption('edit')
    await page.getByRole('button', { name: 'Show access' }).click()
    await page.getByRole('heading', { name: 'What group interns may edit of type document' }).waitFor()
    t.ok(await page.getByRole('row', { name: /^d1 edit group editors \(through interns\)$/ }).isVisible(), 'through the group it is nested in')
    t.same(await page.evaluate('({ pwned: typeof window.__pwned, images: document.querySelectorAll("img").length })'), { pwned: 'undefined', images: 0 })
  })

  t.test('a membership the API refuses is said in the page\'s words', async (t) => {
    // Putting big (three users) into editors reaches four member-group pairs: past maxMembershipChange (3).
    for (let i = 0; i < 3; i++) await p.addMember({ group: 'big', member: { kind: 'user', id: `u${i}` } })
    await open(served, '#/groups?group=editors', 'olga')
    await page.getByRole('heading', { name: 'Members of editors' }).waitFor()
    const form = page.getByRole('form', { name: 'Add a member' })
    await form.getByLabel('Member kind').selectOption('group')
    await form.getByLabel('Member id').fill('big')
    await form.getByRole('button', { name: 'Add member' }).click()
    await says(page, 'Refused: this membership change would reach more members and groups at once than the application allows', 'alert')
    t.same((await p.listMembers('editors')).map((m) => m.member.id).sort(), [HOSTILE, 'interns'].sort(), 'nothing written')
    await open(served, '#/groups?group=editors', 'bob')
    await says(page, 'You do not manage group editors', 'alert')
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
