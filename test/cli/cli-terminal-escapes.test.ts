// Human output never carries a stored control character to the operator's
// terminal (an escape sequence could clear the screen, retitle the window or
// hide what follows): list, list --grantee and audit show them as visible
// \uXXXX escapes; --json stays exact.
import t from 'tap'
import { visible } from '../../bin/commands/terminal.js'
import { cliWorld } from '../cli-helper.js'

t.setTimeout(360_000)

const HOSTILE = 'esc-\u001b[2J\u001b]0;pwned\u0007-\u001b[8m-\u202e-\u009b'
// Anything a terminal could act on: C0, DEL, C1, bidirectional overrides.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

t.test('visible() escapes controls and bidi overrides, leaves other text alone', async (t) => {
  t.equal(visible(HOSTILE), 'esc-\\u001b[2J\\u001b]0;pwned\\u0007-\\u001b[8m-\\u202e-\\u009b')
  t.equal(visible('café 🙂 שלום \\u001b'), 'café 🙂 שלום \\u001b', 'printable text, astral and right-to-left letters stay')
  t.equal(visible('a\nb\tc'), 'a\\u000ab\\u0009c')
})

t.test('list, list --grantee and audit escape stored ids, actors and reasons; --json is exact', async (t) => {
  const { cli } = await cliWorld(t)
  const granted = await cli('grant', `user:${HOSTILE}`, 'read', 'document', HOSTILE, '--actor', HOSTILE, '--reason', HOSTILE)
  t.equal(granted.code, 0, granted.stderr)
  t.notMatch(granted.stdout, CONTROL, 'grant echoes the grant escaped')
  for (const args of [['list', 'document', HOSTILE], ['list', '--grantee', `user:${HOSTILE}`], ['audit']]) {
    const human = await cli(...args)
    t.equal(human.code, 0, human.stderr)
    t.notMatch(human.stdout, CONTROL, `${args[0]} ${args[1] ?? ''}: no control character reaches the terminal`)
    t.match(human.stdout, 'esc-\\u001b[2J', 'shown as an escape')
    const json = await cli(...args, '--json')
    t.ok(JSON.stringify(json.json).includes(JSON.stringify(HOSTILE).slice(1, -1)), `${args[0]} --json carries the exact value`)
  }
  const refused = await cli('revoke', `user:${HOSTILE}`, 'wirte', 'document', HOSTILE)
  t.not(refused.code, 0)
  t.notMatch(refused.stderr, CONTROL, 'an error message naming the value escapes it too')
})
