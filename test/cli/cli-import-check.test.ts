// import's checking pass names every row the write would refuse, in one run:
// rows that do not parse, and rows the service's own validation refuses (an
// unknown privilege or resource type, an expiry in the past, an ineligible
// grantee). Nothing is imported.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, grantsOf } from '../cli-helper.js'

t.setTimeout(360_000)

t.test('every refused row is listed by its line in one run, and nothing is imported', async (t) => {
  const world = await cliWorld(t)
  const { cli, dir } = world
  const csv = join(dir, 'grants.csv')
  await writeFile(csv, [
    'granteeKind,granteeId,resource,id,privilege,expiresAt',
    'user,alice,document,1,read,',
    'user,bob,document,2,wirte,',
    'usr,carol,document,3,read,',
    'user,dave,documnet,4,read,',
    'user,erin,document,5,read,2020-01-01',
    'anonymous,,document,6,edit,',
    'user,frank,folder,7,read,'
  ].join('\n') + '\n')
  const out = await cli('import', csv, '--json')
  t.equal(out.code, 3, out.stderr)
  t.match(out.stderr, /nothing imported: 5 bad rows in /)
  t.match(out.stderr, /line 3: invalid grant: privilege must be one of read, edit, delete, manage \(got "wirte"\)/)
  t.match(out.stderr, /line 4: grantee kind 'usr': expected user, group or anonymous/)
  t.match(out.stderr, /line 5: invalid grant: resource "documnet" is not a known resource type \(did you mean "document"\?\)/)
  t.match(out.stderr, /line 6: invalid grant: expiresAt must be in the future/)
  t.match(out.stderr, /line 7: This principal may not hold this privilege/)
  t.same(out.json.error.details.rows.map((r: { line: number }) => r.line), [3, 4, 5, 6, 7], 'in the order of the file')
  t.same(await grantsOf(world), [], 'nothing was imported')
})
