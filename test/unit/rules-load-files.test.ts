// Behaviour 34 (D15) and 33 for files: which file is read, and how failures read.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { compileRules, evaluateRules, loadRulesFiles, RulesConfigError } from '../../lib/rules/index.js'
import { facts, fixture } from '../fixtures/rules/helpers.js'

const DEFAULT = fixture('default.rules.json')
const SITE = fixture('site.rules.json')
const INVALID = fixture('invalid-json.rules')
const MISSING = fixture('does-not-exist.rules')

function loadError (files: Parameters<typeof loadRulesFiles>[0]): RulesConfigError {
  try {
    loadRulesFiles(files)
  } catch (error) {
    if (error instanceof RulesConfigError) return error
    throw error
  }
  throw new Error('expected loadRulesFiles to throw')
}

t.test('the default file alone', async t => {
  const source = loadRulesFiles({ rulesFile: DEFAULT }) as { paths: Record<string, string> }
  t.equal(source.paths['admin/'], 'admin')
})

t.test('an existing site file replaces the default file entirely (behaviour 34)', async t => {
  const source = loadRulesFiles({ rulesFile: DEFAULT, siteRulesFile: SITE })
  t.same(Object.keys((source as { paths: object }).paths), ['site/only'])
  const compiled = compileRules(source, {})
  // admin/ exists only in the default file, so it has no effect.
  t.equal(evaluateRules(compiled, facts({ url: '/admin/sites/purge', level: null })).allow, true)
  t.equal(evaluateRules(compiled, facts({ url: '/site/only' })).allow, false)
})

t.test('the site file is read even when the default file is broken or missing', async t => {
  t.ok(loadRulesFiles({ rulesFile: INVALID, siteRulesFile: SITE }))
  t.ok(loadRulesFiles({ rulesFile: MISSING, siteRulesFile: SITE }))
  t.ok(loadRulesFiles({ siteRulesFile: SITE }))
})

t.test('a missing site file falls back to the default file', async t => {
  const source = loadRulesFiles({ rulesFile: DEFAULT, siteRulesFile: MISSING }) as { paths: Record<string, string> }
  t.equal(source.paths['admin/'], 'admin')
})

t.test('invalid JSON names the file, not its content', async t => {
  const error = loadError({ rulesFile: INVALID })
  t.equal(error.pointer, '')
  t.match(error.message, /^rules: rules file .*invalid-json\.rules is not valid JSON/)
  t.notMatch(error.message, 's3cret-token-value')
  t.notMatch(error.message, 'X-Access-Token')
  const site = loadError({ rulesFile: DEFAULT, siteRulesFile: INVALID })
  t.match(site.message, /invalid-json\.rules is not valid JSON/, 'a broken site file does not fall back')
})

t.test('missing files', async t => {
  t.match(loadError({ rulesFile: MISSING }).message, /does-not-exist\.rules does not exist/)
  t.match(loadError({ siteRulesFile: MISSING }).message, /does not exist and no default rules file was given/)
  t.match(loadError({}).message, /no rules file given/)
})

t.test('a site file that exists but cannot be read is an error, not a fallback', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'))
  t.teardown(() => chmodSync(dir, 0o700))
  const asDirectory = loadError({ rulesFile: DEFAULT, siteRulesFile: dir })
  t.match(asDirectory.message, /cannot read rules file .* \(EISDIR\)/)
  const unreadable = join(dir, 'site.rules')
  writeFileSync(unreadable, '{"paths":{},"groups":{}}')
  chmodSync(unreadable, 0o000)
  let readable = true
  try {
    loadRulesFiles({ siteRulesFile: unreadable })
  } catch {
    readable = false
  }
  // Root can read mode-000 files; only assert where permissions apply.
  if (!readable) t.match(loadError({ rulesFile: DEFAULT, siteRulesFile: unreadable }).message, /cannot read rules file .*EACCES/)
  else t.pass('running as root: permission check not applicable')
})

t.test('a UTF-8 byte-order mark is tolerated', async t => {
  t.same(loadRulesFiles({ rulesFile: fixture('bom.rules.json') }), { paths: {}, groups: {} })
})

t.test('parsed content is returned unvalidated for compileRules to check', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'))
  const file = join(dir, 'array.rules')
  writeFileSync(file, '[1, 2]')
  t.same(loadRulesFiles({ rulesFile: file }), [1, 2])
  t.throws(() => compileRules(loadRulesFiles({ rulesFile: file }), {}), RulesConfigError)
})
