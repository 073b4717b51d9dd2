// The Access view in Chromium: "what can I access?" for a user's own token,
// and a person's or a group's access as a manager sees it: only within what
// the manager manages (nothing else listed or hinted at), each resource with
// what the principal holds there and through what.
import t from 'tap'
import { launchOrSkip, open, serve } from '../admin-helper.js'
import { screenshot } from '../admin-screenshot.js'

const HOSTILE = '<img src=x onerror="window.__pwned=1">'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { page } = served
  const p = served.app.permissions
  // carol (serve): read and edit on d1. Here: owner of c1, read on a hostile id (olga's), and through staff on s1, which mia manages, not olga.
  await p.setOwner({ resource: 'document', id: 'c1', owner: 'carol' })
  await p.grant({ grantee: { kind: 'user', id: 'olga' }, resource: 'document', id: 'c1', privilege: 'manage' })
  await p.setOwner({ resource: 'document', id: HOSTILE, owner: 'olga' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: HOSTILE, privilege: 'read' })
  await p.setOwner({ resource: 'document', id: 's1', owner: 'mia' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 's1', privilege: 'read' })
  await p.addMember({ group: 'staff', member: { kind: 'user', id: 'carol' } })
  const resources = async () => await page.locator('tbody th').allInnerTexts()
  const row = (name: RegExp) => page.getByRole('row', { name })

  t.test('what can I access? all of one\'s own, and through what', async (t) => {
    await open(served, '#/access?type=document', 'carol')
    await page.getByRole('heading', { name: 'What you may read of type document' }).waitFor()
    t.same(await resources(), [HOSTILE, 'c1', 'd1', 's1'], 'every one, the hostile id as text')
    t.ok(await row(/^c1 read owner$/).isVisible(), 'c1: as its owner')
    t.ok(await row(/^manage owner$/).isVisible(), 'and every privilege owners hold, each a row')
    t.ok(await row(/^d1 read group staff direct grant to user carol$/).isVisible(), 'd1: read through staff and directly')
    t.ok(await row(/^edit direct grant to user carol$/).isVisible(), 'd1: edit directly')
    t.ok(await row(/^s1 read group staff$/).isVisible(), 's1: through the stored membership in staff')
    t.same(await page.evaluate('({ pwned: typeof window.__pwned, images: document.querySelectorAll("img").length })'), { pwned: 'undefined', images: 0 })
  })

  t.test('a manager asking about carol sees only what it manages', async (t) => {
    await open(served, '#/access?type=document&kind=user&principal=carol', 'olga')
    await page.getByRole('heading', { name: 'What user carol may read of type document' }).waitFor()
    t.same(await resources(), [HOSTILE, 'c1', 'd1'], 's1 is mia\'s: not listed')
    t.notMatch(await page.locator('main').innerText(), /\bs1\b/, 'nor named anywhere on the page')
    t.match(await page.locator('main .hint').last().innerText(), 'Shown within the resources you manage')
    await screenshot(t, page, 'admin-access', 1000)
    await open(served, '#/access?type=document&kind=user&principal=carol', 'mia')
    await page.getByRole('heading', { name: 'What user carol may read of type document' }).waitFor()
    t.same(await resources(), ['s1'], 'mia sees her part only')
    await open(served, '#/access?type=document&kind=user&principal=carol', 'bob')
    await page.getByText('Nothing to show here.').waitFor()
    t.equal(await page.getByRole('table').count(), 0, 'bob manages nothing: nothing listed')
  })

  t.test('a group\'s access, and the form that asks for it', async (t) => {
    await open(served, '#/access', 'root', { su: true })
    await page.getByLabel('Resource type').fill('document')
    await page.getByLabel('Whose access').selectOption('group')
    await page.getByLabel('User or group id').fill('staff')
    await page.getByRole('button', { name: 'Show access' }).click()
    await page.getByRole('heading', { name: 'What group staff may read of type document' }).waitFor()
    t.same(await resources(), ['d1', 's1'])
    t.ok(await row(/^s1 read group staff$/).isVisible())
  })

  t.test('a type-level grant: every resource, said so', async (t) => {
    await p.grant({ grantee: { kind: 'user', id: 'erin' }, resource: 'document', id: null, privilege: 'read' })
    await open(served, '#/access?type=document', 'erin')
    await page.getByText('A type-level grant (or superuser status) lets you read every resource of type document').waitFor()
    t.ok(await row(/^d1 read direct grant to user erin, type-level: every document$/).isVisible())
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
