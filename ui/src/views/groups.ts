// A stored group's own members: listed, added and removed by whoever
// manages the group, through the grant API's member routes.
import { call, path, session } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { fail, focusResult, form, go, input, needToken, submit, changer } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type Member = Answer<'Member'>

export function groupsView (params: URLSearchParams): HTMLElement {
  const group = params.get('group') ?? ''
  const heading = h('h2', { tabindex: -1 }, 'Group members')
  if (!session.config.groups) {
    return h('section', {}, heading, h('p', {}, 'Stored groups are turned off in this application: groups come from tokens only.'))
  }
  const groupInput = input('group', { value: group, required: true, maxlength: 256 })
  const chooser = form('Choose a group', () => go('groups', { group: groupInput.value }), field('Group id', groupInput), submit('Show members'))
  chooser.classList.add('inline')
  const result = h('div', { class: 'result' })
  if (group !== '' && needToken()) void show(result, group)
  return h('section', {}, heading,
    h('p', { class: 'intro' }, 'A member of a group holds what the group holds; a member group brings its own members along. Managers of the group may change its members.'),
    chooser, result)
}

/** The view of another group: the hash built from URLSearchParams, never from text pasted together. */
function groupHref (group: string): string {
  return `#/groups?${new URLSearchParams({ group }).toString()}`
}

async function show (result: HTMLElement, group: string): Promise<void> {
  const route = `/groups${path(group)}/members`
  const forbidden = { forbidden: `You do not manage group ${group}: only its owner, a superuser or a holder of manage on it may see or change its members.` }
  const heading = h('h3', { tabindex: -1 }, `Members of ${group}`)
  const list = h('div')
  const reason = input('reason', { maxlength: 500 })
  const reasonField = field('Reason recorded with a change (optional)', reason, 'Recorded in the audit trail with the next Remove below or the next member added.')

  async function refresh (): Promise<boolean> {
    try {
      const answer = await call<{ members: Member[] }>('GET', route)
      replace(list, answer.members.length === 0
        ? h('p', { class: 'empty' }, 'No stored members.')
        : table(`Members of ${group}`, ['Member', 'Added by', 'Added at', 'Action'], answer.members.map((m) => h('tr', {},
          h('th', { scope: 'row' }, m.kind === 'group' ? h('a', { href: groupHref(m.id) }, `group ${m.id}`) : `${m.kind} ${m.id}`),
          h('td', {}, m.addedBy ?? '—'), h('td', {}, format.when(m.addedAt)),
          h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${m.kind} ${m.id} from ${group}`, 'aria-describedby': reason.id, on: { click: () => { void remove(m) } } }, 'Remove'))))))
      return true
    } catch (err) {
      fail(err, forbidden)
      return false
    }
  }

  const change = changer(refresh, forbidden)

  async function remove (m: Member): Promise<void> {
    await change(async () => {
      await call('DELETE', `${route}${path(m.kind, m.id)}`, { query: { reason: reason.value } })
      return `Removed ${m.kind} ${m.id} from ${group}.`
    })
    list.querySelector<HTMLElement>('[role=region]')?.focus()
  }

  const kind = select('kind', [['user', 'user'], ['group', 'group']], 'user')
  const id = input('member', { required: true, maxlength: 256 })
  const add = h('fieldset', {}, h('legend', {}, 'Add a member'), form('Add a member', () => change(async () => {
    const answer = await call<{ before: string[] }>('PUT', `${route}${path(kind.value, id.value)}`, { query: { reason: reason.value } })
    return answer.before.length > 0 ? `${kind.value} ${id.value} already was a member of ${group}.` : `Added ${kind.value} ${id.value} to ${group}.`
  }), field('Member kind', kind), field('Member id', id), submit('Add member')))

  if (!await refresh()) { replace(result); return }
  const gives = h('p', {}, h('a', { href: `#/access?${new URLSearchParams({ kind: 'group', principal: group }).toString()}` }, `What ${group} gives its members`),
    ' · nested groups are links: follow one to see its own members.')
  replace(result, heading, gives, reasonField, list, add)
  focusResult(heading)
}
