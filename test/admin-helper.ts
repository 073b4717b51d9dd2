// The admin page in a real browser: Debian's Chromium driven by
// playwright-core, against the plugin listening on a random local port.
// Chromium missing: with CI set the file fails, otherwise it is skipped and
// says how to install it.
import { execFileSync } from 'node:child_process'
import tap from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { build, type Built } from './helper.js'

export const WAIT = 10_000
export const PREFIX = '/permissions/ui'

export function findChromium (): string | null {
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8', timeout: 5000 }).trim()
    return found === '' ? null : found
  } catch {
    return null
  }
}

/** The browser, or null when this file must skip (it then plans nothing). */
export async function launchOrSkip (t: typeof tap): Promise<Browser | null> {
  const executablePath = findChromium()
  if (executablePath === null) {
    const message = 'Chromium not found: install it with `apt-get install -y chromium` to run the admin page\'s browser tests'
    if (process.env.CI !== undefined && process.env.CI !== '') {
      t.fail(message)
      return null
    }
    t.plan(0, message)
    return null
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'], timeout: 30_000 })
  t.teardown(() => browser.close())
  return browser
}

export interface Served extends Built {
  url: string
  page: Page
  /** Page errors and console errors seen so far: none is expected. */
  problems: string[]
}

/**
 * olga owns document d1 (carol reads and edits it, staff reads it); a token
 * with `su: true` is a superuser; GET /documents/:id needs read. `options`:
 * more plugin options (a hierarchy, say).
 */
export async function serve (t: typeof tap, browser: Browser, options: Record<string, unknown> = {}): Promise<Served> {
  const built = await build(t, { superuserClaim: 'su', adminPage: { prefix: PREFIX }, ...options })
  built.app.get('/documents/:id', { config: { permission: { resource: 'document', privilege: 'read' } } }, async () => ({ ok: true }))
  const url = await built.app.listen({ port: 0, host: '127.0.0.1' })
  const p = built.app.permissions
  await p.setOwner({ resource: 'document', id: 'd1', owner: 'olga' }, { actor: 'olga', reason: 'created' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga' })
  await p.grant({ grantee: { kind: 'user', id: 'carol' }, resource: 'document', id: 'd1', privilege: 'edit', grantedBy: 'olga' })
  await p.grant({ grantee: { kind: 'group', id: 'staff' }, resource: 'document', id: 'd1', privilege: 'read', grantedBy: 'olga', expiresAt: new Date(Date.now() + 30 * 86_400_000) })
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, locale: 'en-GB', timezoneId: 'UTC' })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT)
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  // The browser logs each refused request as an error: those are the API's answers, not the page's faults.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) problems.push(`console: ${message.text()}`)
  })
  t.teardown(() => context.close())
  return { ...built, url, page, problems }
}

/** Opens the page at `hash` and pastes `sub`'s token (with `claims`), as a user would. */
export async function open (served: Served, hash: string, sub: string, claims: Record<string, unknown> = {}): Promise<void> {
  const { page, token } = served
  await load(served, hash)
  await page.getByLabel('Bearer token').fill(token({ sub, ...claims }))
  await page.getByLabel('Bearer token').press('Enter')
  await page.locator('#token-state').filter({ hasText: `a token for ${sub}` }).waitFor()
}

/** A fresh load of the page at `hash`: a new document, so no token is held. */
export async function load ({ page, url }: Served, hash: string): Promise<void> {
  // Only the hash changing would keep the document (and its token).
  await page.goto('about:blank')
  await page.goto(`${url}${PREFIX}/${hash}`)
  await page.locator('#token-state').filter({ hasText: 'No token' }).waitFor()
}

/** Waits until the status (or, with `alert`, the error) region says `text`. */
export async function says (page: Page, text: string, region: 'status' | 'alert' = 'status'): Promise<string> {
  const locator = page.getByRole(region).filter({ hasText: text })
  await locator.waitFor()
  return await locator.innerText()
}
