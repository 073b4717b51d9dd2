// The admin page's files, built from ui/ by scripts/build-ui.js and read
// once, at registration: serving them costs no disk access, and a page that
// was never built fails the start-up instead of the first visit.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { codes } from '../errors.js'

export interface Asset {
  body: Buffer
  type: string
  etag: string
}

// lib/admin/ in this repository, dist/lib/admin/ in the package: two levels
// up is the repository (admin-ui/, built by `npm start`, the tests and
// `npm run build:ui`) or dist/ (dist/admin-ui/, built by `npm run build`).
export const ASSET_DIR = fileURLToPath(new URL('../../admin-ui/', import.meta.url))

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml'
}

function asset (body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
}

/**
 * The files by name, `index.html` with its absolute URLs under `prefix` (the
 * page is served at `/prefix` and `/prefix/`, so relative URLs would not do),
 * and `config.json`, what the page needs to know about the API.
 */
export function loadAssets (prefix: string, config: Record<string, unknown>, dir = ASSET_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>()
  for (const [name, type] of Object.entries(FILES)) {
    let body: Buffer
    try {
      body = readFileSync(dir + name)
    } catch {
      throw new codes.FST_DEFAULT_DENY_INVALID_OPTION('adminPage', `needs the built page, and ${dir}${name} is missing: run 'npm run build:ui'`)
    }
    // The prefix passed the option's check: letters, digits, '/', '.', '_', '~' and '-' only.
    if (name === 'index.html') body = Buffer.from(body.toString('utf8').replaceAll('%PREFIX%', prefix))
    assets.set(name, asset(body, type))
  }
  assets.set('config.json', asset(Buffer.from(JSON.stringify(config)), 'application/json; charset=utf-8'))
  return assets
}
