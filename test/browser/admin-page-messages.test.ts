// What a new user noticed: a success message of one view stayed on the next;
// the revoke reason sat away from the Revoke buttons; times had no time zone.
import t from 'tap'
import { launchOrSkip, open, says, serve } from '../admin-helper.js'

const browser = await launchOrSkip(t)
if (browser !== null) {
  const served = await serve(t, browser)
  const { page } = served

  t.test('a success message of one view is gone on the next', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    const form = page.getByRole('form', { name: 'Add a grant' })
    await form.getByLabel('Grantee id').fill('dave')
    await form.getByRole('button', { name: 'Add grant' }).click()
    await says(page, 'Granted read to user dave.')
    await page.getByRole('link', { name: 'Audit trail' }).click()
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor()
    // Two frames: a message waiting for one would be shown by then.
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))')
    t.equal(await page.locator('#status').innerText(), '', 'the audit view does not say "Granted"')
    t.equal(await page.locator('#error').innerText(), '')
  })

  t.test('the revoke reason is with the Revoke buttons, and they name it', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga')
    await page.getByRole('heading', { name: 'document d1' }).waitFor()
    const placed = await page.evaluate(`(() => {
      const reason = document.querySelector('input[name=reason]')
      const revoke = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Revoke')
      const between = [...document.querySelectorAll('input, select, button')]
      const from = between.indexOf(reason)
      const to = between.indexOf(revoke)
      return {
        label: reason.labels[0].textContent,
        sameGroup: reason.closest('.grants') !== null && reason.closest('.grants') === revoke.closest('.grants'),
        controlsBetween: to - from - 1,
        describedBy: revoke.getAttribute('aria-describedby') === reason.id
      }
    })()`)
    t.same(placed, { label: 'Reason recorded with a revoke (optional)', sameGroup: true, controlsBetween: 0, describedBy: true })
  })

  t.test('times show their time zone', async (t) => {
    await open(served, '#/resource?type=document&id=d1', 'olga', { exp: Math.floor(Date.now() / 1000) + 3600 })
    const row = page.getByRole('row', { name: /^group staff read/ })
    await row.waitFor()
    const cells = await row.locator('td').allInnerTexts()
    t.match(cells[3], /\d{2}:\d{2} UTC$/, `granted at, with its zone (${cells[3] ?? ''})`)
    t.match(cells[5], /\d{2}:\d{2} UTC$/, `expires, with its zone (${cells[5] ?? ''})`)
    t.match(await page.locator('#token-state').innerText(), /which expires .*\d{2}:\d{2} UTC/, 'the token\'s expiry too')
  })

  t.test('no script error on the way', async (t) => {
    t.same(served.problems, [])
  })
}
