// Type-level grants: a privilege on every resource of a type, those that
// exist and those still to come, whoever's. Superusers only, on a view of
// their own, with what such a grant spans said before it is given.
import { call, path, session } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { changer, fail, focusResult, form, go, granteeFields, input, needToken, submit } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type TypeGrants = Answer<'TypeGrantList'>
type Grant = TypeGrants['grants'][number]
type Change = Answer<'Change'>
type ResourcePage = Answer<'ResourcePage'>

const SUPERUSERS = 'Only superusers may see or change type-level grants: one counts on every resource of the type, whoever owns it.'
// How many known resources the warning counts before it says "more than".
const COUNTED = 100

export function typesView (params: URLSearchParams): HTMLElement {
  const type = params.get('type') ?? ''
  const typeInput = input('type', { value: type, required: true, maxlength: 256 })
  const chooser = form('Choose a type', () => go('types', { type: typeInput.value }), field('Resource type', typeInput), submit('Show type-level grants'))
  chooser.classList.add('inline')
  const result = h('div', { class: 'result' })
  if (type !== '' && needToken()) void show(result, type)
  return h('section', {}, h('h2', { tabindex: -1 }, 'Type-level grants'),
    h('p', { class: 'intro' }, 'A type-level grant gives a privilege on every resource of a type at once. Superusers only.'),
    chooser, result)
}

async function show (result: HTMLElement, type: string): Promise<void> {
  const route = `/type-grants${path(type)}`
  const forbidden = { forbidden: SUPERUSERS }
  const heading = h('h3', { tabindex: -1 }, `Type-level grants on ${type}`)
  const warning = h('p', { class: 'summary deny', role: 'note' })
  const list = h('div')
  const reason = input('reason', { maxlength: 500 })
  const reasonField = field('Reason recorded with a revoke (optional)', reason, 'Recorded in the audit trail with the next Revoke below.')

  async function refresh (): Promise<boolean> {
    let answer: TypeGrants
    try {
      answer = await call<TypeGrants>('GET', route)
    } catch (err) {
      fail(err, forbidden)
      return false
    }
    replace(list, answer.grants.length === 0
      ? h('p', { class: 'empty' }, `No type-level grants on ${type}.`)
      : table(`Type-level grants on ${type}`, ['Grantee', 'Privilege', 'Granted by', 'Granted at', 'Starts', 'Expires', 'Action'], answer.grants.map((g) => row(g))))
    return true
  }

  function row (g: Grant): HTMLTableRowElement {
    const who = format.grantee(g.grantee)
    return h('tr', {}, h('th', { scope: 'row' }, who), h('td', {}, g.privilege), h('td', {}, g.grantedBy ?? '—'),
      h('td', {}, format.when(g.grantedAt)), h('td', {}, format.when(g.startsAt)), h('td', {}, format.when(g.expiresAt)),
      h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${g.privilege} on every ${type} from ${who}`, 'aria-describedby': reason.id, on: { click: () => { void revoke(g) } } }, 'Revoke')))
  }

  const change = changer(refresh, forbidden)

  async function revoke (g: Grant): Promise<void> {
    const who = format.grantee(g.grantee)
    await change(async () => {
      const answer = await call<Change>('DELETE', `${route}${path(g.privilege)}`, { query: { kind: g.grantee.kind, principal: g.grantee.kind === 'anonymous' ? undefined : g.grantee.id, reason: reason.value } })
      return answer.before.includes(g.privilege) ? `Revoked ${g.privilege} on every ${type} from ${who}.` : `${who} did not hold ${g.privilege} on every ${type}.`
    })
    list.querySelector<HTMLElement>('[role=region]')?.focus()
  }

  const grantee = granteeFields('Grantee', true)
  const privilege = select('privilege', session.config.privileges.map((p) => [p, p]))
  const expires = input('expiresAt', { type: 'datetime-local' })
  const addReason = input('reason', { maxlength: 500 })
  const add = h('fieldset', {}, h('legend', {}, 'Add a type-level grant'), form('Add a type-level grant', () => change(async () => {
    const who = grantee.describe()
    const body = { grantee: grantee.value(), privilege: privilege.value, expiresAt: format.instant(expires.value), reason: addReason.value === '' ? undefined : addReason.value }
    const answer = await call<Change>('POST', route, { body })
    if (!answer.before.includes(privilege.value)) return `Granted ${privilege.value} on every ${type} to ${who}.`
    return answer.changed.length > 0 ? `${who} already held ${privilege.value} on every ${type}; its dates were changed.` : `${who} already held ${privilege.value} on every ${type}: nothing changed.`
  }), ...grantee.nodes, field('Privilege', privilege), field('Expires (optional)', expires), field('Reason (optional)', addReason), submit('Add type-level grant')))

  if (!await refresh()) { replace(result); return }
  replace(warning, await span(type))
  replace(result, heading, warning, reasonField, list, add)
  focusResult(heading)
}

/** What a type-level grant spans, in words, counting the known resources of the type. */
async function span (type: string): Promise<string> {
  const rest = `and every ${type} created later, whoever owns it. Grant one only where that is what you mean.`
  try {
    const page = await call<ResourcePage>('GET', `/resources${path(type)}`, { query: { limit: String(COUNTED) } })
    const count = page.next === null ? `all ${page.resources.length} ${type} resources known now` : `at least ${COUNTED} ${type} resources known now`
    return `Warning: a type-level grant counts on every ${type}: ${count}, ${rest}`
  } catch {
    return `Warning: a type-level grant counts on every ${type} there is, ${rest}`
  }
}
