// "Why can X do Y?": the explain answer as a sentence, and its evidence.
import { call, path, session } from '../api.js'
import { field, h, replace, select } from '../dom.js'
import * as format from '../format.js'
import { fail, focusResult, form, go, input, needToken, resourceFields, submit } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type Explanation = Answer<'Explanation'>
type Reason = Explanation['privileges'][number]['via'][number]

export function explainView (params: URLSearchParams): HTMLElement {
  const type = params.get('type') ?? ''
  const id = params.get('id') ?? ''
  const kind = params.get('kind') ?? 'user'
  const chosen = resourceFields(type, id)
  const kindSelect = select('kind', [['user', 'a user'], ['anonymous', 'everyone (anonymous)']], kind)
  const principal = input('principal', { value: params.get('principal') ?? '', maxlength: 256 })
  const groups = input('groups', { value: params.get('groups') ?? '' })
  const privilege = select('privilege', [['', 'anything (list what they can do)'], ...session.config.privileges.map((p): [string, string] => [p, p])], params.get('privilege') ?? '')
  const question = form('Why can someone do something?', () => go('explain', {
    type: chosen.type.value, id: chosen.id.value, kind: kindSelect.value, principal: kindSelect.value === 'anonymous' ? undefined : principal.value,
    groups: kindSelect.value === 'anonymous' ? undefined : groups.value, privilege: privilege.value
  }), ...chosen.nodes, field('Who', kindSelect), field('User id', principal),
  field('Token groups (optional)', groups, 'Groups the user\'s token names, separated by commas; stored memberships count by themselves.'),
  field('Privilege', privilege), submit('Explain'))
  const result = h('div', { class: 'result', 'aria-live': 'off' })
  if (type !== '' && id !== '' && needToken()) void show(result, params)
  return h('section', {}, h('h2', { tabindex: -1 }, 'Why can someone do something?'),
    h('p', { class: 'intro' }, 'Ask what a user (or anyone, without a token) may do on a resource, and on which grants that rests.'),
    question, result)
}

async function show (result: HTMLElement, params: URLSearchParams): Promise<void> {
  const type = params.get('type') as string
  const id = params.get('id') as string
  const kind = params.get('kind') === 'anonymous' ? 'anonymous' : 'user'
  const principal = params.get('principal') ?? ''
  const asked = params.get('privilege') ?? ''
  const groups = (params.get('groups') ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '')
  let answer: Explanation
  try {
    answer = await call<Explanation>('GET', `${path(type, id)}/explain`, {
      query: { kind, principal: kind === 'user' ? principal : undefined, groups: kind === 'user' ? groups : undefined, privilege: asked }
    })
  } catch (err) {
    fail(err, { forbidden: `You do not manage ${type} ${id}: only its owner, a superuser or a holder of manage on it may ask why.` })
    replace(result)
    return
  }
  const who = kind === 'anonymous' ? 'everyone (anonymous)' : `user ${principal}${groups.length > 0 ? ` (token groups ${groups.join(', ')})` : ''}`
  const heading = h('h3', { tabindex: -1 }, asked === '' ? `What can ${who} do on ${type} ${id}?` : `Can ${who} ${asked} ${type} ${id}?`)
  const verdict = answer.decision === undefined ? '' : answer.decision === 'allow' ? 'Yes. ' : 'No. '
  const summary = h('p', { class: `summary ${answer.decision ?? ''}` }, verdict, capitalise(answer.summary), '.')
  const stepUp = answer.stepUp === undefined
    ? null
    : h('p', {}, `${answer.stepUp.privilege} also needs a second authentication factor in the token${answer.stepUp.satisfied === null ? ' (judged on each request, not here)' : answer.stepUp.satisfied ? ', which it has' : ', which it lacks'}.`)
  const evidence = answer.privileges.length === 0
    ? h('p', { class: 'empty' }, 'No grant, ownership or superuser status counts for them here.')
    : h('ul', { class: 'evidence' }, ...answer.privileges.map((entry) => h('li', {},
      h('strong', {}, entry.privilege), entry.stepUp === true ? ' (needs a second factor)' : '', ': ',
      entry.via.map(reason).join('; '))))
  replace(result, heading, summary, stepUp, h('h4', {}, 'Evidence'), evidence)
  focusResult(heading)
}

function reason (r: Reason): string {
  if (r.source === 'superuser') return 'is a superuser'
  if (r.source === 'owner') return `owns the resource (owners hold ${r.privilege})`
  const via = r.via !== undefined && r.via.length > 0 ? ` (through ${r.via.join(' → ')})` : ''
  return `${format.grantee(r.grantee ?? null)}${via} holds ${r.privilege}${r.typeLevel ? ' on every resource of the type' : ''}`
}

function capitalise (text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
