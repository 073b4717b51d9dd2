// The package's own version, for --version.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PACKAGE_NAME = 'fastify-default-deny'

/**
 * The version in the nearest package.json of this package above `from`. The
 * tool runs from the sources (bin/, through tsx) and from dist/bin/ in an
 * installed package, at different depths below package.json; a package.json
 * on the way that is not this package's (a build's {"type": "module"}) is
 * passed by.
 */
export function packageVersion (from: string | URL = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version
    } catch {
      // None here, or not JSON: keep walking up.
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}
