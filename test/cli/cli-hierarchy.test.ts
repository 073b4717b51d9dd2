// The tool's hierarchy commands (parent set/show, children), the tenant
// option's refusal, and export/import carrying parents: a round trip, a
// child listed before its parent, and a check pass that names every
// refused parent row.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { cliWorld, type CliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

const CONFIG = `export default {
  resources: ['document', 'folder', 'project', 'org'],
  typeLevelGrants: { forbid: ['project'] },
  hierarchy: { maxDepth: 3, types: { project: { parents: ['org'] }, folder: { parents: ['project', 'folder'] }, document: { parents: ['folder'] } } }
}
`

async function world (t: Parameters<typeof cliWorld>[0]): Promise<CliWorld & { run: (...args: string[]) => ReturnType<CliWorld['cli']> }> {
  const w = await cliWorld(t)
  const config = join(w.dir, 'tree.config.mjs')
  await writeFile(config, CONFIG)
  return { ...w, run: async (...args: string[]) => await w.cli('--config', config, ...args) }
}

t.test('parent set, show, --clear and children; refusals exit 3 with the service\'s sentence', async (t) => {
  const w = await world(t)
  const set = await w.run('parent', 'set', 'folder:f1', 'project:p1', '--actor', 'ops', '--json')
  t.equal(set.code, 0, set.stderr)
  t.match(set.json, { child: { resource: 'folder', id: 'f1' }, parent: { resource: 'project', id: 'p1' }, before: null, changed: true, revision: /\S/ })
  t.equal((await w.run('parent', 'set', 'document:d:1', 'folder:f1')).code, 0, 'an id may hold a colon')
  t.equal((await w.run('parent', 'set', 'document:d2', 'folder:f1')).code, 0)
  const again = await w.run('parent', 'set', 'document:d2', 'folder:f1')
  t.match(again.stdout, /document:d2 already is under folder:f1 \(unchanged\)/)

  const show = await w.run('parent', 'show', 'document:d:1')
  t.equal(show.code, 0, show.stderr)
  t.match(show.stdout, /document:d:1\n\s+under folder:f1\n\s+under project:p1/)
  t.match((await w.run('parent', 'show', 'document:d:1', '--json')).json, { parent: { resource: 'folder', id: 'f1' }, ancestors: [{ resource: 'folder', id: 'f1', depth: 1 }, { resource: 'project', id: 'p1', depth: 2 }] })

  const first = await w.run('children', 'folder:f1', '--limit', '1', '--json')
  t.same(first.json.children, [{ resource: 'document', id: 'd2' }], 'by type then id, byte-wise: "2" before ":"')
  const all = await w.run('children', 'folder:f1')
  t.equal(all.stdout, 'document:d2\ndocument:d:1\n', 'one line each')
  const next = await w.run('children', 'folder:f1', '--limit', '1', '--after', first.json.next, '--json')
  t.same(next.json.children, [{ resource: 'document', id: 'd:1' }])

  const cycle = await w.run('parent', 'set', 'folder:f1', 'folder:f1')
  t.equal(cycle.code, 3)
  t.match(cycle.stderr, /own ancestor/)
  const wrongType = await w.run('parent', 'set', 'document:d3', 'project:p1')
  t.equal(wrongType.code, 3)
  t.match(wrongType.stderr, /a document may be placed under folder, not under a project/)
  t.equal((await w.run('parent', 'set', 'folder:f9', 'folder:f1')).code, 0)
  t.equal((await w.run('parent', 'set', 'document:d9', 'folder:f9')).code, 0, 'd9 > f9 > f1 > p1: 3 levels')
  const deep = await w.run('parent', 'set', 'project:p1', 'org:o1')
  t.equal(deep.code, 3, 'a fourth level above d9 is over maxDepth 3')
  t.match(deep.stderr, /maxDepth/)
  t.equal((await w.run('parent', 'set', 'document:d3')).code, 2, 'neither a parent nor --clear')
  t.equal((await w.run('parent', 'set', 'document:d3', 'folder:f1', '--clear')).code, 2)
  t.equal((await w.run('parent', 'set', 'd3', 'folder:f1')).code, 2, 'TYPE:ID expected')

  const cleared = await w.run('parent', 'set', 'document:d2', '--clear', '--json')
  t.match(cleared.json, { parent: null, before: { resource: 'folder', id: 'f1' }, changed: true })
  t.match((await w.run('parent', 'show', 'document:d2')).stdout, /document:d2 has no parent/)

  const typeLevel = await w.run('grant', 'group:staff', 'read', 'project', '--type-level')
  t.equal(typeLevel.code, 3, 'tenants: no type-level grant on project')
  t.match(typeLevel.stderr, /id must name one "project": type-level grants on "project" are forbidden by the typeLevelGrants option/)
})

t.test('export then import carries the parents; a child may come before its parent', async (t) => {
  const source = await world(t)
  for (const args of [['folder:f1', 'project:p1'], ['folder:f2', 'folder:f1'], ['document:d1', 'folder:f2']]) {
    t.equal((await source.run('parent', 'set', ...args)).code, 0)
  }
  t.equal((await source.run('grant', 'user:alice', 'read', 'project', 'p1')).code, 0)
  for (const format of ['csv', 'json']) {
    const file = join(source.dir, `tree.${format}`)
    const exported = await source.run('export', file, '--json')
    t.match(exported.json, { exported: 1, parents: 3 }, exported.stderr)
    const text = await readFile(file, 'utf8')
    if (format === 'csv') t.match(text, /^granteeKind,granteeId,resource,id,privilege,grantedBy,grantedAt,expiresAt,startsAt,parentResource,parentId\n/)
    else t.match(text, /\{"resource":"document","id":"d1","parent":\{"resource":"folder","id":"f2"\}\}/)
    // The children first: an order that would fail were parents required first.
    const lines = text.trimEnd().split('\n')
    const reversed = format === 'csv' ? [lines[0], ...lines.slice(1).reverse()] : [...lines].reverse()
    await writeFile(file, reversed.join('\n') + '\n')

    const target = await world(t)
    const imported = await target.run('import', file, '--json')
    t.equal(imported.code, 0, imported.stderr)
    t.match(imported.json, { rows: 4, created: 1, parents: 3 })
    t.match((await target.run('parent', 'show', 'document:d1', '--json')).json.ancestors, [
      { resource: 'folder', id: 'f2', depth: 1 }, { resource: 'folder', id: 'f1', depth: 2 }, { resource: 'project', id: 'p1', depth: 3 }
    ], `${format}: the tree came back`)
    const again = await target.run('import', file, '--json')
    t.match(again.json, { rows: 4, created: 0, existing: 1, parents: 3 }, 'importing again changes nothing')
    const audit = await target.run('audit', '--json')
    t.equal(audit.json.entries.filter((e: { action: string }) => e.action === 'parent').length, 3, 'one audit entry per parent, none on the second import')
  }
})

t.test('import refuses the whole file, listing every refused parent row; nothing is written', async (t) => {
  const w = await world(t)
  const file = join(w.dir, 'bad.jsonl')
  await writeFile(file, [
    '{"grantee":{"kind":"user","id":"alice"},"resource":"document","id":"d1","privilege":"read"}',
    '{"resource":"document","id":"d1","parent":{"resource":"project","id":"p1"}}',
    '{"resource":"folder","id":"a","parent":{"resource":"folder","id":"b"}}',
    '{"resource":"folder","id":"b","parent":{"resource":"folder","id":"a"}}',
    '{"resource":"document","id":"d2","parent":{"resource":"foldr","id":"f"}}',
    '{"resource":"document","id":"d3","parent":{"resource":"folder"}}',
    '{"grantee":{"kind":"user","id":"bob"},"resource":"project","id":null,"privilege":"read"}'
  ].join('\n') + '\n')
  const out = await w.run('import', file, '--json')
  t.equal(out.code, 3, out.stderr)
  t.match(out.stderr, /nothing imported: 5 bad rows/)
  t.match(out.stderr, /line 2: .*a document may be placed under folder, not under a project/)
  t.match(out.stderr, /line 4: .*own ancestor/)
  t.match(out.stderr, /line 5: .*"foldr" is not a known resource type/)
  t.match(out.stderr, /line 6: parent id is missing/)
  t.match(out.stderr, /line 7: .*type-level grants on "project" are forbidden/)
  t.same(out.json.error.details.rows.map((r: { line: number }) => r.line), [2, 4, 5, 6, 7])
  const exported = await w.run('export', '--format', 'json')
  t.equal(exported.stdout, '', 'no grant, no parent')
})
