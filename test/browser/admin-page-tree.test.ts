// The admin page and resource hierarchies, in Chromium: a resource's
// ancestors as a path to follow, its children a page at a time, where each
// grant comes from, the form that moves it, and hostile ids in all of these
// shown as text.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'

const HIERARCHY = { types: { folder: { parents: ['project', 'folder'] }, document: { parents: ['folder'] } } }
const HOSTILE = '<img src=x onerror="window.__pwned=1">'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser, { hierarchy: HIERARCHY, resources: ['document', 'folder', 'project'] })
  const { page } = served
  const p = served.app.permissions
  await p.setOwner({ resource: 'project', id: 'p1', owner: 'olga' })
  await p.setOwner({ resource: 'folder', id: 'f2', owner: 'olga' })
  await p.setParent({ resource: 'folder', id: 'f1' }, { resource: 'project', id: 'p1' })
  await p.setParent({ resource: 'document', id: 'd1' }, { resource: 'folder', id: 'f1' })
  await p.grant({ grantee: { kind: 'user', id: 'erin' }, resource: 'project', id: 'p1', privilege: 'edit' })
  await p.setParent({ resource: 'folder', id: HOSTILE }, { resource: 'folder', id: 'f1' })
  for (let i = 0; i < 24; i++) await p.setParent({ resource: 'document', id: `c${String(i).padStart(2, '0')}` }, { resource: 'folder', id: 'f1' })

  t.test('the path of ancestors, followed by clicking; the children a page at a time', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    const path = page.getByRole('navigation', { name: 'Where document d1 is' })
    t.equal(await path.innerText(), 'project p1 › folder f1 › document d1', 'root first, the resource last')
    await path.getByRole('link', { name: 'folder f1' }).click()
    await page.getByRole('heading', { name: 'folder f1' }).waitFor()
    t.equal(await page.getByRole('navigation', { name: 'Where folder f1 is' }).innerText(), 'project p1 › folder f1')
    const children = page.getByRole('list', { name: 'Children of folder f1' }).getByRole('listitem')
    t.equal(await children.count(), 20, 'a first page of 20')
    t.equal(await children.first().innerText(), 'document c00', 'by type, then id')
    await page.getByRole('button', { name: 'More children' }).click()
    await children.nth(25).waitFor()
    t.equal(await children.count(), 26, 'the rest: 24 documents, d1 and the hostile folder')
    t.ok(await page.getByRole('button', { name: 'More children' }).isHidden(), 'no more after the last page')
    await page.getByRole('link', { name: 'document c03' }).click()
    await page.getByRole('heading', { name: 'document c03' }).waitFor()
  })

  t.test('each grant says where it comes from: this resource, or which ancestor', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    t.ok(await page.getByRole('row', { name: /user carol edit explicit grant/ }).isVisible(), 'its own grant')
    const inherited = page.getByRole('row', { name: /user erin edit inherited from project p1/ })
    t.ok(await inherited.isVisible(), 'erin\'s grant on the project, named')
    t.ok(await page.getByRole('row', { name: /user olga read, edit, delete, manage owner of project p1/ }).isVisible(), 'the project\'s owner')
    await inherited.getByRole('link', { name: 'project p1', exact: true }).click()
    await page.getByRole('heading', { name: 'project p1' }).waitFor()
  })

  t.test('the move form sets and clears the parent; a refusal is said with the server\'s words', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga')
    const form = page.getByRole('form', { name: 'Move in the tree' })
    await form.getByLabel('Parent type').fill('folder')
    await form.getByLabel('Parent id').fill('f2')
    await form.getByRole('button', { name: 'Set parent' }).click()
    await says(page, 'document d1 is now under folder f2.')
    t.same(await p.getParent({ resource: 'document', id: 'd1' }), { resource: 'folder', id: 'f2' })
    await page.getByRole('navigation', { name: 'Where document d1 is' }).filter({ hasText: 'folder f2 › document d1' }).waitFor()

    await form.getByLabel('Parent type').fill('project')
    await form.getByLabel('Parent id').fill('p1')
    await form.getByRole('button', { name: 'Set parent' }).click()
    t.match(await says(page, 'The request was not accepted', 'alert'), /document may be placed under folder, not under a project/)

    await form.getByLabel('Parent type').fill('')
    await form.getByLabel('Parent id').fill('')
    await form.getByRole('button', { name: 'Set parent' }).click()
    await says(page, 'document d1 has no parent now.')
    t.equal(await p.getParent({ resource: 'document', id: 'd1' }), null)
    t.equal(await page.getByRole('navigation', { name: 'Where document d1 is' }).innerText(), 'At the root (no parent): document d1')
  })

  t.test('a hostile id in the children and the path is text and runs nothing', async (t) => {
    await open(served, '#/resource?type=folder&id=f1', 'olga')
    const link = page.getByRole('link', { name: `folder ${HOSTILE}` })
    await page.getByRole('button', { name: 'More children' }).click()
    await link.click()
    await page.getByRole('heading', { name: `folder ${HOSTILE}` }).waitFor()
    t.match(await page.getByRole('navigation', { name: `Where folder ${HOSTILE} is` }).innerText(), `project p1 › folder f1 › folder ${HOSTILE}`)
    t.same(await page.evaluate('({ pwned: typeof window.__pwned, images: document.querySelectorAll("img").length })'), { pwned: 'undefined', images: 0 })
    t.same(served.problems, [], 'no page or console error')
  })
}
