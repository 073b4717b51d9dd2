// The admin page's other views in Chromium, and what it does with hostile
// strings: ids and reasons are attacker-controlled, and are shown as text
// without running anything. Then the audit trail a page at a time, the
// superuser's global trail and chain check, explain, and group members.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { app, as, page } = served
  const p = app.permissions
  const elements = async () => await page.evaluate(`({
    pwned: typeof window.__pwned,
    images: document.querySelectorAll('img').length,
    scripts: [...document.scripts].map((s) => s.src.replace(location.origin, ''))
  })`)

  t.test('ids and reasons holding markup are shown as text and run nothing', async (t) => {
    const hostileId = '<img src=x onerror="window.__pwned=1">'
    const hostileGrantee = '<script>window.__pwned=2</script>'
    const hostileReason = '<img src=x onerror=window.__pwned=3><script>window.__pwned=4</script>'
    await p.setOwner({ resource: 'document', id: hostileId, owner: 'olga' }, { actor: 'olga', reason: hostileReason })
    await open(served, '#/resource', 'olga')
    await page.getByLabel('Resource type').fill('document')
    await page.getByLabel('Resource id').fill(hostileId)
    await page.getByRole('button', { name: 'Show access' }).click()
    await page.getByRole('heading', { name: `document ${hostileId}` }).waitFor()
    const form = page.getByRole('form', { name: 'Add a grant' })
    await form.getByLabel('Grantee id').fill(hostileGrantee)
    await form.getByLabel('Reason (optional)').fill(hostileReason)
    await form.getByRole('button', { name: 'Add grant' }).click()
    await says(page, `Granted read to user ${hostileGrantee}.`)
    t.ok(await page.getByRole('rowheader', { name: `user ${hostileGrantee}` }).isVisible(), 'the grantee\'s id, as text, in the table')
    const listed = await p.listGrants({ resource: 'document', id: hostileId })
    t.same(listed.map((g) => g.grantee), [{ kind: 'user', id: hostileGrantee }], 'the API stored exactly what was typed')

    await page.getByRole('link', { name: 'Audit trail' }).click()
    // Within the trail's own form: the resource view, still shown until the
    // hashchange is handled, has fields of the same names.
    const chooser = page.getByRole('form', { name: 'Choose a trail' })
    await chooser.getByLabel('Resource type').fill('document')
    await chooser.getByLabel('Resource id').fill(hostileId)
    await chooser.getByRole('button', { name: 'Show trail' }).click()
    await page.getByRole('heading', { name: `Audit trail of document ${hostileId}, newest first` }).waitFor()
    t.equal(await page.getByRole('cell', { name: hostileReason, exact: true }).count(), 2, 'both reasons, as text')
    t.same(await elements(), { pwned: 'undefined', images: 0, scripts: ['/permissions/ui/app.js'] }, 'no payload ran, no element was made of one')
  })

  t.test('the audit trail pages, newest first', async (t) => {
    const target = { resource: 'document', id: 'busy' }
    await p.setOwner({ ...target, owner: 'olga' }, { actor: 'olga', reason: 'the first entry' })
    for (let i = 0; i < 12; i++) {
      await p.grant({ grantee: { kind: 'user', id: `u${String(i).padStart(2, '0')}` }, ...target, privilege: 'read', grantedBy: 'olga' }, { actor: 'olga', reason: `share ${i}` })
    }
    await open(served, '#/audit?show=1&type=document&id=busy&limit=10', 'olga')
    const heading = page.getByRole('heading', { name: 'Audit trail of document busy, newest first' })
    await heading.waitFor()
    const rows = page.locator('tbody tr')
    t.equal(await rows.count(), 10, 'a page of 10')
    t.match(await rows.first().innerText(), 'share 11', 'the newest first')
    t.equal(await page.getByText('the first entry').count(), 0, 'the oldest is not on the first page')
    await page.getByRole('button', { name: 'Older entries' }).click()
    await page.getByRole('heading', { name: /Audit trail of document busy, entries before No\. \d+/ }).waitFor()
    t.equal(await rows.count(), 3, 'the remaining three')
    t.match(await rows.last().innerText(), 'the first entry', 'down to the oldest')
    t.ok(await page.getByText('No older entries.').isVisible(), 'and no further')
    await page.getByRole('button', { name: 'Newest entries' }).click()
    await heading.waitFor()
    t.match(await rows.first().innerText(), 'share 11', 'back at the newest')

    await open(served, '#/audit?show=1', 'olga')
    await says(page, 'Only superusers may read the whole audit trail', 'alert')
    await open(served, '#/audit?show=1&kind=user&principal=u05', 'root', { su: true })
    await page.getByRole('heading', { name: 'The whole audit trail, newest first' }).waitFor()
    t.equal(await rows.count(), 1, 'the superuser filters the global trail by principal')
    t.match(await rows.first().innerText(), 'share 5')
    await page.getByRole('button', { name: 'Verify the audit chain' }).click()
    t.match(await says(page, 'The audit chain is intact'), /entries checked/)
  })

  t.test('why can someone do something: the sentence and its evidence', async (t) => {
    await open(served, '#/explain?type=document&id=d1&kind=user&principal=bob&groups=staff&privilege=edit', 'olga')
    await page.getByRole('heading', { name: 'Can user bob (token groups staff) edit document d1?' }).waitFor()
    t.equal(await page.locator('.summary').innerText(), 'No. Denied: group staff holds read; the request needs edit.')
    await page.getByLabel('Privilege').selectOption('')
    await page.getByLabel('User id').fill('carol')
    await page.getByLabel(/Token groups/).fill('')
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.getByRole('heading', { name: 'What can user carol do on document d1?' }).waitFor()
    t.equal(await page.locator('.summary').innerText(), 'Can read, edit.')
    t.same(await page.locator('.evidence li').allInnerTexts(), ['read: user carol holds read', 'edit: user carol holds edit'])
  })

  t.test('a group\'s members: listed, added and removed by its manager', async (t) => {
    await p.setOwner({ resource: 'group', id: 'editors', owner: 'olga' })
    await p.addMember({ group: 'editors', member: { kind: 'user', id: 'erin' } }, { actor: 'olga' })
    await open(served, '#/groups?group=editors', 'olga')
    await page.getByRole('heading', { name: 'Members of editors' }).waitFor()
    t.ok(await page.getByRole('row', { name: /user erin olga/ }).isVisible(), 'erin, added by olga')
    const form = page.getByRole('form', { name: 'Add a member' })
    await form.getByLabel('Member kind').selectOption('group')
    await form.getByLabel('Member id').fill('interns')
    await form.getByRole('button', { name: 'Add member' }).click()
    await says(page, 'Added group interns to editors.')
    t.same((await p.listMembers('editors')).map((m) => m.member).sort((a, b) => a.id.localeCompare(b.id)),
      [{ kind: 'user', id: 'erin' }, { kind: 'group', id: 'interns' }], 'the API has both')
    await page.getByRole('button', { name: 'Remove user erin from editors' }).click()
    await says(page, 'Removed user erin from editors.')
    t.same((await p.listMembers('editors')).map((m) => m.member), [{ kind: 'group', id: 'interns' }], 'erin is out')
    t.equal((await app.inject({ url: '/permissions/groups/editors/members', headers: as('olga') })).json().members.length, 1)

    await open(served, '#/groups?group=editors', 'bob')
    await says(page, 'You do not manage group editors', 'alert')
    t.equal(await page.getByRole('table').count(), 0, 'bob sees no member')
  })

  t.test('on a phone\'s width the page does not scroll sideways; the grants table scrolls within its region', async (t) => {
    await page.setViewportSize({ width: 375, height: 740 })
    t.teardown(() => page.setViewportSize({ width: 1000, height: 700 }))
    await open(served, '#/resource?type=document&id=d1', 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    const widths = await page.evaluate(`({
      page: document.documentElement.scrollWidth,
      widest: Math.max(...[...document.querySelectorAll('input, select, button')].filter((e) => e.closest('.scroll') === null).map((e) => e.getBoundingClientRect().right))
    })`) as { page: number, widest: number }
    t.ok(widths.page <= 375, `nothing wider than the screen (${widths.page} px)`)
    t.ok(widths.widest <= 375, `every control outside the table within it (${widths.widest} px)`)
    t.ok(await page.getByRole('region', { name: 'Grants on document d1' }).isVisible(), 'the table in its own scrolling region')
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
