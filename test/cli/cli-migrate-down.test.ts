// migrate down never drops data without being told to: a migration whose
// revert would drop rows or values says which (tables, columns, counts) and
// exits 3 having dropped nothing; --yes drops them, and the audit trail
// also needs --discard-audit.
import t from 'tap'
import { migrations } from '../../migrations/index.js'
import { cliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

const ALL = Object.keys(migrations).sort()

t.test('down all the way: each data-dropping step is refused until confirmed', async (t) => {
  const world = await cliWorld(t)
  const { cli } = world
  t.equal((await cli('grant', 'user:alice', 'read', 'document', 'd1', '--starts', '2020-01-01T00:00:00Z')).code, 0)
  t.equal((await cli('members', 'add', 'staff', 'user:bob')).code, 0)
  const applied = async () => (await cli('migrate', 'status', '--json')).json.migrations.filter((m: { executedAt: string | null }) => m.executedAt !== null).length

  const refusedFor = new Map<string, string>()
  for (let left = ALL.length; left > 0; left--) {
    const plain = await cli('--json', 'migrate', 'down')
    if (plain.code === 0) {
      t.same(plain.json.reverted, [ALL[left - 1]], `${ALL[left - 1]}: drops no data, reverted without asking`)
      continue
    }
    t.equal(plain.code, 3, `${ALL[left - 1]}: refused without confirmation (${plain.stderr.trim()})`)
    t.match(plain.stderr, /drops (table|column) \S+ and its \d+ (row|value)/, 'says what it would drop, with counts')
    t.match(plain.json.error, { exitCode: 3, details: { migration: ALL[left - 1] } })
    t.equal(await applied(), left, 'nothing reverted')
    refusedFor.set(ALL[left - 1] as string, plain.stderr)
    const audit = /default_deny_audit and its/.test(plain.stderr)
    if (audit) {
      const yes = await cli('migrate', 'down', '--yes')
      t.equal(yes.code, 3, 'the audit trail is not dropped on --yes alone')
      t.match(yes.stderr, /--discard-audit/)
      t.equal(await applied(), left)
    }
    const confirmed = await cli('migrate', 'down', '--yes', ...(audit ? ['--discard-audit'] : []))
    t.equal(confirmed.code, 0, confirmed.stderr)
    t.match(confirmed.stdout, new RegExp(`reverted: ${ALL[left - 1]} \\(dropped `))
  }
  t.match(refusedFor.get('20261125070000_create_grants'), /default_deny_grant and its 1 row/)
  t.match(refusedFor.get('20261125080000_create_audit'), /default_deny_audit and its 2 rows/)
  t.match(refusedFor.get('20261129120000_grant_starts_at'), /column \S+\.default_deny_grant\.starts_at and its 1 value/)
  t.ok([...refusedFor.values()].some((text) => /default_deny_membership and its 1 row/.test(text)), 'the membership table')
  t.equal((await cli('migrate', 'down')).stdout.trim(), 'nothing to do')
})
