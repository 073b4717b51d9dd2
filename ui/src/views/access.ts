// What a person or a group may use of a type, and through what: a direct
// grant, a group, ownership, an ancestor, a type-level grant. Without a
// principal, the token's own ("what can I access?"); for someone else, the
// API answers only within what the token manages, and so does this view.
import { call, path, session } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { fail, focusResult, form, go, input, needToken, submit } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type Page = Answer<'AccessPage'>
type Reason = Page['resources'][number]['privileges'][number]['via'][number]

const PAGE = 25

export function accessView (params: URLSearchParams): HTMLElement {
  const values = Object.fromEntries(params) as Record<string, string | undefined>
  const type = input('type', { value: values.type ?? '', required: true, maxlength: 256 })
  const kind = select('kind', [['', 'me (my token)'], ['user', 'a user'], ['group', 'a group']], values.kind ?? '')
  const principal = input('principal', { value: values.principal ?? '', maxlength: 256 })
  const groups = input('groups', { value: values.groups ?? '' })
  const privilege = select('privilege', session.config.privileges.map((p): [string, string] => [p, p]), values.privilege ?? session.config.privileges[0])
  const sync = () => {
    principal.disabled = kind.value === ''
    principal.required = !principal.disabled
    groups.disabled = kind.value !== 'user'
  }
  kind.addEventListener('change', sync)
  sync()
  const question = form('Ask about access', () => go('access', {
    type: type.value, kind: kind.value, principal: kind.value === '' ? undefined : principal.value,
    groups: kind.value === 'user' ? groups.value : undefined, privilege: privilege.value
  }), field('Resource type', type), field('Whose access', kind), field('User or group id', principal),
  field('Token groups (optional)', groups, 'Comma-separated, as a token names them.'),
  field('Counting as use', privilege, 'Each resource shows all they hold there.'),
  submit('Show access'))
  question.classList.add('inline')
  const result = h('div', { class: 'result' })
  if (values.type !== undefined && values.type !== '' && needToken()) void show(result, values)
  return h('section', {}, h('h2', { tabindex: -1 }, 'What can someone access?'),
    h('p', { class: 'intro' }, 'Every resource of a type a person or a group may use, and through what. Your own access is shown in full; someone else\'s only within the resources you manage (a superuser sees it all).'),
    question, result)
}

async function show (result: HTMLElement, values: Record<string, string | undefined>): Promise<void> {
  const { type = '', kind, principal, privilege, after } = values
  const groups = (values.groups ?? '').split(',').map((g) => g.trim()).filter((g) => g !== '')
  let page: Page
  try {
    page = await call<Page>('GET', `/access${path(type)}`, {
      query: { kind, principal: kind === undefined ? undefined : principal, groups: kind === 'user' ? groups : undefined, privilege, after, limit: String(PAGE) }
    })
  } catch (err) {
    fail(err)
    replace(result)
    return
  }
  const who = kind === undefined ? 'you' : `${kind} ${principal ?? ''}`
  const title = kind === undefined ? `What you may ${page.privilege} of type ${type}` : `What ${who} may ${page.privilege} of type ${type}`
  const heading = h('h3', { tabindex: -1 }, after === undefined ? title : `${title}, after ${after}`)
  const scope = kind === undefined
    ? null
    : h('p', { class: 'hint' }, `Shown within the resources you manage: anything of ${who} outside them is not listed here.`)
  const everything = page.all
    ? h('p', { class: 'summary allow' }, `A type-level grant (or superuser status) lets ${who} ${page.privilege} every resource of type ${type}, those not listed here too.`)
    : null
  const rows = page.resources.flatMap((r) => r.privileges.map((entry, i) => h('tr', {},
    i === 0 ? h('th', { scope: 'row', rowspan: r.privileges.length }, h('a', { href: `#/resource?${new URLSearchParams({ type, id: r.id }).toString()}` }, r.id)) : null,
    h('td', {}, entry.privilege),
    h('td', {}, h('ul', { class: 'through' }, ...entry.via.map((reason) => h('li', {}, through(reason, type))))))))
  const nav = h('div', { class: 'pager' },
    after === undefined ? null : h('button', { type: 'button', on: { click: () => go('access', { ...values, after: undefined }) } }, 'First page'),
    page.next === null ? h('span', { class: 'muted' }, 'No more resources.') : h('button', { type: 'button', on: { click: () => go('access', { ...values, after: page.next ?? undefined }) } }, 'Next page'))
  replace(result, heading, scope, everything,
    rows.length === 0 ? h('p', { class: 'empty' }, 'Nothing to show here.') : table(title, ['Resource', 'Privilege', 'Through'], rows),
    nav)
  focusResult(heading)
}

/** How a privilege is reached, in words: direct, group, owner, ancestor, type-level. */
function through (r: Reason, type: string): HTMLElement | string {
  if (r.source === 'superuser') return 'superuser'
  if (r.source === 'owner') {
    return r.ancestor === undefined ? 'owner' : h('span', {}, 'owner of ancestor ', link(r.ancestor))
  }
  const holder = r.source === 'anonymous'
    ? 'everyone (anonymous)'
    : r.source === 'group' ? `${format.grantee(r.grantee ?? null)}${r.via !== undefined && r.via.length > 0 ? ` (through ${r.via.join(' → ')})` : ''}` : `direct grant to ${format.grantee(r.grantee ?? null)}`
  if (r.typeLevel) return `${holder}, type-level: every ${type}`
  if (r.ancestor !== undefined) return h('span', {}, `${holder}, on ancestor `, link(r.ancestor))
  return holder
}

function link (ref: { resource: string, id: string }): HTMLAnchorElement {
  return h('a', { href: `#/resource?${new URLSearchParams({ type: ref.resource, id: ref.id }).toString()}` }, `${ref.resource} ${ref.id}`)
}
