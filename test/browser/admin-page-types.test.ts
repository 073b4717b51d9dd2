// The Type-level grants view in Chromium: superusers only; what a grant on
// a whole type spans is said before it is given; granted, it lets the
// grantee into every resource of the type; revoked with a reason, audited;
// a grantee id holding markup is text.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'
import { screenshot } from '../admin-screenshot.js'

const HOSTILE = '<img src=x onerror="window.__pwned=1">'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { app, as, page } = served
  const p = app.permissions
  await p.setOwner({ resource: 'document', id: 'd2', owner: 'olga' })

  t.test('a manager, even an owner, is told only superusers may', async (t) => {
    await open(served, '#/types?type=document', 'olga')
    await says(page, 'Only superusers may see or change type-level grants', 'alert')
    t.equal(await page.getByRole('form', { name: 'Add a type-level grant' }).count(), 0, 'no form to add one')
  })

  t.test('a superuser sees the warning, grants on the whole type, and revokes it', async (t) => {
    await open(served, '#/types?type=document', 'root', { su: true })
    await page.getByRole('heading', { name: 'Type-level grants on document' }).waitFor()
    t.equal(await page.getByRole('note').innerText(),
      'Warning: a type-level grant counts on every document: all 2 document resources known now, and every document created later, whoever owns it. Grant one only where that is what you mean.')
    t.ok(await page.getByText('No type-level grants on document.').isVisible())
    t.equal((await app.inject({ url: '/documents/new-one', headers: as('erin') })).statusCode, 403)

    const form = page.getByRole('form', { name: 'Add a type-level grant' })
    await form.getByLabel('Grantee id').fill('erin')
    await form.getByLabel('Reason (optional)').fill('auditors read everything')
    await form.getByRole('button', { name: 'Add type-level grant' }).click()
    await says(page, 'Granted read on every document to user erin.')
    t.ok(await page.getByRole('row', { name: /^user erin read root/ }).isVisible(), 'listed, granted by root')
    t.equal((await app.inject({ url: '/documents/new-one', headers: as('erin') })).statusCode, 200, 'erin reads a document no one has seen yet')
    await screenshot(t, page, 'admin-types', 1000)

    await page.getByLabel('Reason recorded with a revoke (optional)').fill('audit over')
    await page.getByRole('button', { name: 'Revoke read on every document from user erin' }).click()
    await says(page, 'Revoked read on every document from user erin.')
    t.equal((await app.inject({ url: '/documents/new-one', headers: as('erin') })).statusCode, 403)
    const [last, first] = await p.audit({ limit: 2 })
    t.match(last, { action: 'revoke', actor: 'root', resource: 'document', id: null, reason: 'audit over' })
    t.match(first, { action: 'grant', actor: 'root', resource: 'document', id: null, reason: 'auditors read everything' })
  })

  t.test('an unknown type is refused in the server\'s words', async (t) => {
    await open(served, '#/types?type=documnet', 'root', { su: true })
    const said = await says(page, 'The request was not accepted', 'alert')
    t.match(said, 'not a known resource type')
  })

  t.test('a grantee whose id holds markup is shown as text, and nothing runs', async (t) => {
    await p.grant({ grantee: { kind: 'group', id: HOSTILE }, resource: 'document', id: null, privilege: 'read' })
    await open(served, '#/types?type=document', 'root', { su: true })
    await page.getByRole('heading', { name: 'Type-level grants on document' }).waitFor()
    const table = page.getByRole('table')
    await table.waitFor()
    t.match(await table.innerText(), `group ${HOSTILE}`, 'the id, as text')
    t.ok(await page.getByRole('button', { name: `Revoke read on every document from group ${HOSTILE}` }).isVisible(), 'its button names it as text')
    t.same(await page.evaluate('({ pwned: typeof window.__pwned, images: document.querySelectorAll("img").length })'), { pwned: 'undefined', images: 0 })
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
