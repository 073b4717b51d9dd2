// The Browse view in Chromium: a type's resources a page at a time, with
// owners and grant counts, filtered by an id prefix matched as text; a
// manager sees only what it manages (counts included), and ids holding
// markup are shown as text.
import t from 'tap'
import { launchOrSkip, open, serve } from '../admin-helper.js'
import { screenshot } from '../admin-screenshot.js'

const HOSTILE = '<img src=x onerror="window.__pwned=1">'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { page } = served
  const p = served.app.permissions
  // olga owns d1 (three grants, from serve), 30 pages p00..p29, a%b, a_c and a hostile id; mia owns m1 and has a grant on m2.
  for (let i = 0; i < 30; i++) await p.setOwner({ resource: 'document', id: `p${String(i).padStart(2, '0')}`, owner: 'olga' })
  for (const id of ['a%b', 'a_c', HOSTILE]) await p.setOwner({ resource: 'document', id, owner: 'olga' })
  await p.setOwner({ resource: 'document', id: 'm1', owner: 'mia' })
  await p.grant({ grantee: { kind: 'user', id: 'mia' }, resource: 'document', id: 'm2', privilege: 'manage' })
  const ids = async () => await page.locator('tbody th').allInnerTexts()

  t.test('a manager pages through its resources, with owner and grant counts', async (t) => {
    await open(served, '#/browse?type=document', 'olga')
    await page.getByRole('heading', { name: 'Resources of type document' }).waitFor()
    const first = await ids()
    t.equal(first.length, 25, 'a page of 25')
    t.same(first.slice(0, 4), [HOSTILE, 'a%b', 'a_c', 'd1'], 'byte order, the hostile id as text')
    t.ok(await page.getByRole('row', { name: /^d1 olga 3/ }).isVisible(), 'd1: its owner and its three grants')
    t.notOk(first.includes('m1') || first.includes('m2'), 'nothing olga does not manage')
    await screenshot(t, page, 'admin-browse')
    await page.getByRole('button', { name: 'Next page' }).click()
    await page.getByRole('heading', { name: /Resources of type document, after p20/ }).waitFor()
    t.same(await ids(), ['p21', 'p22', 'p23', 'p24', 'p25', 'p26', 'p27', 'p28', 'p29'], 'the rest, and only olga\'s')
    t.ok(await page.getByText('No more resources.').isVisible())
    await page.getByRole('link', { name: 'p25', exact: true }).click()
    await page.getByRole('heading', { name: 'document p25' }).waitFor()
    t.equal(await page.locator('.owner').innerText(), 'Owner: olga', 'the link opens the resource view')
  })

  t.test('the prefix is plain text: % and _ are themselves', async (t) => {
    await open(served, '#/browse?type=document&prefix=a%25', 'olga')
    await page.getByRole('heading', { name: 'Resources of type document whose id starts with a%' }).waitFor()
    t.same(await ids(), ['a%b'])
    await page.getByLabel('Id starts with (optional)').fill('a_')
    await page.getByRole('button', { name: 'Browse' }).click()
    await page.getByRole('heading', { name: 'Resources of type document whose id starts with a_' }).waitFor()
    t.same(await ids(), ['a_c'])
    await page.getByLabel('Id starts with (optional)').fill('<img')
    await page.getByRole('button', { name: 'Browse' }).click()
    await page.getByRole('heading', { name: 'Resources of type document whose id starts with <img' }).waitFor()
    t.same(await ids(), [HOSTILE])
    t.same(await page.evaluate('({ pwned: typeof window.__pwned, images: document.querySelectorAll("img").length })'), { pwned: 'undefined', images: 0 })
  })

  t.test('another manager sees only its own part of the list', async (t) => {
    await open(served, '#/browse?type=document', 'mia')
    await page.getByRole('heading', { name: 'Resources of type document' }).waitFor()
    t.same(await ids(), ['m1', 'm2'])
    t.ok(await page.getByRole('row', { name: /^m1 mia 0/ }).isVisible())
    t.ok(await page.getByRole('row', { name: /^m2 — 1/ }).isVisible(), 'm2 has no owner, one grant')
    await open(served, '#/browse?type=document', 'bob')
    await page.getByText('No resources you manage here.').waitFor()
    t.equal(await page.getByRole('table').count(), 0, 'bob manages nothing: no table, no count')
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
