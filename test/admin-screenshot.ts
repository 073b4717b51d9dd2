// The README's pictures of the admin page, taken from the browser tests'
// own runs: checked to be a real PNG on every run, and copied into docs/
// only with UPDATE_SCREENSHOT=1.
import { copyFile, readFile, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'

interface Asserts {
  ok: (value: unknown, message: string) => unknown
  equal: (found: unknown, wanted: unknown) => unknown
}

/** Shoots the top of the page at 1000 × `height` into docs/`name`.png (with UPDATE_SCREENSHOT=1). */
export async function screenshot (t: Asserts, page: Page, name: string, height = 880): Promise<void> {
  const shot = join(tmpdir(), `${name}-${process.pid}.png`)
  const before = page.viewportSize()
  await page.setViewportSize({ width: 1000, height })
  await page.evaluate('window.scrollTo(0, 0)')
  await page.screenshot({ path: shot })
  if (before !== null) await page.setViewportSize(before)
  t.ok((await stat(shot)).size > 10_000, `a screenshot of ${name} was taken`)
  t.equal((await readFile(shot)).subarray(1, 4).toString(), 'PNG')
  if (process.env.UPDATE_SCREENSHOT === '1') await copyFile(shot, new URL(`../docs/${name}.png`, import.meta.url))
}
