// The admin page's resource view in Chromium: a manager shares and the API
// and the protected route agree; a non-manager, an escalation and a last
// manager get their refusals as sentences; the add-grant flow by keyboard
// alone. One browser for the file, one page reused.
import { copyFile, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { launchOrSkip, load, open, says, serve } from '../admin-helper.js'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { app, as, page } = served
  const d1 = '#/resource?type=document&id=d1'
  const addForm = () => page.getByRole('form', { name: 'Add a grant' })

  t.test('a manager adds a grant in the page: the API shows it, the grantee is let in', async (t) => {
    t.equal((await app.inject({ url: '/documents/d1', headers: as('dave') })).statusCode, 403, 'dave cannot read d1 yet')
    await open(served, d1, 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    t.match(await page.locator('.owner').innerText(), 'Owner: olga')
    t.ok(await page.getByRole('row', { name: /user carol edit explicit grant olga/ }).isVisible(), 'carol\'s grant, with its source and granter')
    const form = addForm()
    await form.getByLabel('Grantee id').fill('dave')
    await form.getByLabel('Privilege').selectOption('read')
    await form.getByLabel('Reason (optional)').fill('reviewing')
    await form.getByRole('button', { name: 'Add grant' }).click()
    await says(page, 'Granted read to user dave.')
    await page.getByRole('row', { name: /user dave read explicit grant olga/ }).waitFor()

    const listed = await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })
    t.ok(listed.json().grants.some((g: { grantee: { id?: string }, privilege: string, source: string, grantedBy: string }) =>
      g.grantee.id === 'dave' && g.privilege === 'read' && g.source === 'explicit' && g.grantedBy === 'olga'), 'the grant API lists it, granted by olga')
    t.equal((await app.inject({ url: '/documents/d1', headers: as('dave') })).statusCode, 200, 'the protected route lets dave in')
    const [entry] = (await app.permissions.audit({ resource: { resource: 'document', id: 'd1' }, limit: 1 }))
    t.equal(entry?.reason, 'reviewing', 'the reason is in the audit trail')

    // The picture in the README: this view, as a manager sees it.
    const shot = join(tmpdir(), `admin-page-${process.pid}.png`)
    await page.setViewportSize({ width: 1000, height: 880 })
    await page.evaluate('window.scrollTo(0, 0)')
    await page.screenshot({ path: shot })
    await page.setViewportSize({ width: 1000, height: 700 })
    t.ok((await stat(shot)).size > 10_000, 'a screenshot of the resource view was taken')
    t.equal((await readFile(shot)).subarray(1, 4).toString(), 'PNG')
    if (process.env.UPDATE_SCREENSHOT === '1') await copyFile(shot, new URL('../../docs/admin-page.png', import.meta.url))

    await page.getByRole('button', { name: 'Revoke read from user dave' }).click()
    await says(page, 'Revoked read from user dave.')
    t.equal((await app.inject({ url: '/documents/d1', headers: as('dave') })).statusCode, 403, 'revoked in the page: dave is out again')
  })

  t.test('someone who does not manage the resource sees the refusal, and nothing of it', async (t) => {
    await open(served, d1, 'bob')
    const said = await says(page, 'You do not manage document d1', 'alert')
    t.match(said, 'only its owner, a superuser or a holder of manage on it may see or change its grants')
    t.equal(await page.getByRole('table').count(), 0, 'no grants shown')
    t.equal(await page.getByText('carol').count(), 0, 'no grantee named')
  })

  t.test('a manager granting what it does not hold sees the 403 sentence; nothing is written', async (t) => {
    await app.permissions.grant({ grantee: { kind: 'user', id: 'mia' }, resource: 'document', id: 'd1', privilege: 'manage', grantedBy: 'olga' })
    await open(served, d1, 'mia')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    const form = addForm()
    await form.getByLabel('Grantee id').fill('mia')
    await form.getByLabel('Privilege').selectOption('delete')
    await form.getByRole('button', { name: 'Add grant' }).click()
    const said = await says(page, 'Refused: you can only grant or take away privileges you hold yourself on this resource', 'alert')
    t.match(said, 'only the owner or a superuser may hand on ownership')
    t.notOk((await app.permissions.listGrants({ resource: 'document', id: 'd1' })).some((g) => g.privilege === 'delete'), 'no delete grant')
    t.equal(await page.getByRole('row', { name: /user mia delete/ }).count(), 0)
  })

  t.test('leaving a resource without a manager is refused with the 409 sentence', async (t) => {
    await app.permissions.setOwner({ resource: 'document', id: 'solo', owner: 'olga' })
    await open(served, '#/resource?type=document&id=solo', 'olga')
    const form = page.getByRole('form', { name: 'Hand on ownership' })
    await form.getByRole('button', { name: 'Set owner' }).click()
    await says(page, 'Refused: this change would leave the resource with no owner and no one who manages it.', 'alert')
    t.equal(await app.permissions.getOwner({ resource: 'document', id: 'solo' }), 'olga', 'still olga\'s')
    await form.getByLabel(/New owner/).fill('nina')
    await form.getByRole('button', { name: 'Set owner' }).click()
    await says(page, 'The owner of document solo is now nina.')
    t.equal(await app.permissions.getOwner({ resource: 'document', id: 'solo' }), 'nina', 'handed on')
  })

  t.test('the add-grant flow by keyboard alone', async (t) => {
    await load(served, d1)
    // Where the focus is: the focused control's label, and the form it is in.
    const focus = async () => await page.evaluate(`(() => {
      const a = document.activeElement
      const label = a && a.labels && a.labels[0] ? a.labels[0].textContent : (a ? a.textContent : '')
      const form = a && a.closest('form') ? a.closest('form').getAttribute('aria-label') : ''
      return (label || '').trim() + ' | ' + (form || '')
    })()`) as string
    const tabTo = async (wanted: string) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab')
        if (await focus() === wanted) return
      }
      throw new Error(`no focus on ${wanted} after 60 tabs (at ${await focus()})`)
    }
    await tabTo('Bearer token | Your token')
    await page.keyboard.type(served.token({ sub: 'olga' }))
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    await tabTo('Grantee id | Add a grant')
    await page.keyboard.type('kim')
    await page.keyboard.press('Tab')
    t.equal(await focus(), 'Privilege | Add a grant')
    await page.keyboard.press('ArrowDown')
    await tabTo('Reason (optional) | Add a grant')
    await page.keyboard.type('by keyboard')
    await tabTo('Add grant | Add a grant')
    await page.keyboard.press('Enter')
    await says(page, 'Granted edit to user kim.')
    const kim = (await app.permissions.listGrants({ resource: 'document', id: 'd1' })).filter((g) => g.grantee.kind === 'user' && g.grantee.id === 'kim')
    t.same(kim.map((g) => g.privilege), ['edit'], 'kim holds edit, chosen with the arrow key')
    t.equal((await app.inject({ url: '/permissions/document/d1/grants', headers: as('olga') })).json().grants
      .filter((g: { grantee: { id?: string } }) => g.grantee.id === 'kim').length, 1, 'the API lists it')
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
