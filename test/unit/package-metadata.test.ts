// package.json names no address that does not exist: a homepage, repository
// or issue tracker a user would follow to nowhere. They come back when the
// project has real ones.
import { readFile } from 'node:fs/promises'
import t from 'tap'

t.test('no homepage, repository or bugs URL until there is a real one', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, unknown>
  for (const field of ['homepage', 'repository', 'bugs']) t.notOk(field in pkg, `${field} is not set`)
})
