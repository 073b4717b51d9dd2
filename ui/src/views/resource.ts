// A resource: its owner, who holds what and why, and the forms that share,
// revoke, replace a grantee's set and hand on ownership.
import { call, path, session } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { fail, focusResult, form, go, granteeFields, input, needToken, resourceFields, submit, changer } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type ManagedGrant = Answer<'Grant'>
type GrantsAnswer = Answer<'GrantList'>
type Change = Answer<'Change'>

const SOURCES = { owner: 'owner', explicit: 'explicit grant', type: 'type-level (every resource of the type)' }

export function resourceView (params: URLSearchParams): HTMLElement {
  const type = params.get('type') ?? ''
  const id = params.get('id') ?? ''
  const chosen = resourceFields(type, id)
  const picker = form('Choose a resource', () => go('resource', { type: chosen.type.value, id: chosen.id.value }),
    ...chosen.nodes, submit('Show access'))
  picker.classList.add('inline')
  const result = h('div', { class: 'result' })
  if (type !== '' && id !== '' && needToken()) void show(result, type, id)
  return h('section', {},
    h('h2', { tabindex: -1 }, 'Who has access to a resource'),
    h('p', { class: 'intro' }, 'Give a resource type and id to see its owner and every grant on it, and to share or revoke access. You see and change only what the grant API lets your token.'),
    picker, result)
}

async function show (result: HTMLElement, type: string, id: string): Promise<void> {
  const route = path(type, id)
  const forbidden = { forbidden: `You do not manage ${type} ${id}: only its owner, a superuser or a holder of manage on it may see or change its grants.` }
  const heading = h('h3', { tabindex: -1 }, `${type} ${id}`)
  const owner = h('p', { class: 'owner' })
  const grants = h('div')
  const revokeReason = input('reason', { maxlength: 500 })

  async function refresh (): Promise<boolean> {
    let answer: GrantsAnswer
    try {
      answer = await call<GrantsAnswer>('GET', `${route}/grants`)
    } catch (err) {
      fail(err, forbidden)
      replace(result, h('p', { class: 'empty' }, `Nothing to show for ${type} ${id}.`))
      return false
    }
    replace(owner, answer.owner === null ? 'No owner is recorded.' : 'Owner: ', answer.owner === null ? null : h('strong', {}, answer.owner))
    replace(grants, grantsTable(answer))
    return true
  }

  function grantsTable (answer: GrantsAnswer): HTMLElement {
    if (answer.grants.length === 0) return h('p', { class: 'empty' }, 'No one holds anything here.')
    // The owner holds each owner privilege: one row says so.
    const owned = answer.grants.filter((g) => g.source === 'owner')
    const shown = answer.grants.filter((g) => g.source !== 'owner')
    if (owned.length > 0) shown.unshift({ ...(owned[0] as ManagedGrant), privilege: owned.map((g) => g.privilege).join(', ') })
    const rows = shown.map((g) => {
      const who = format.grantee(g.grantee)
      const action = g.source === 'explicit'
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${g.privilege} from ${who}`, on: { click: () => { void revoke(g) } } }, 'Revoke')
        : h('span', { class: 'muted' }, g.source === 'owner' ? 'set the owner below' : 'type-level')
      return h('tr', {},
        h('th', { scope: 'row' }, who), h('td', {}, g.privilege), h('td', {}, SOURCES[g.source]), h('td', {}, g.grantedBy ?? '—'),
        h('td', {}, format.when(g.grantedAt)), h('td', {}, format.when(g.startsAt)), h('td', {}, format.when(g.expiresAt)), h('td', {}, action))
    })
    return table(`Grants on ${answer.resource} ${answer.id}`, ['Grantee', 'Privilege', 'Source', 'Granted by', 'Granted at', 'Starts', 'Expires', 'Action'], rows)
  }

  const change = changer(refresh, forbidden)

  async function revoke (g: ManagedGrant): Promise<void> {
    const who = format.grantee(g.grantee)
    const target = g.grantee.kind === 'anonymous' ? path('anonymous', g.privilege) : path(g.grantee.kind, g.grantee.id ?? '', g.privilege)
    await change(async () => {
      const answer = await call<Change>('DELETE', `${route}/grants${target}`, { query: { reason: revokeReason.value } })
      return answer.before.includes(g.privilege) ? `Revoked ${g.privilege} from ${who}.` : `${who} did not hold ${g.privilege}.`
    })
    grants.querySelector<HTMLElement>('[role=region]')?.focus()
  }

  if (!await refresh()) return
  replace(result, heading, owner, grants,
    field('Reason recorded with a revoke (optional)', revokeReason),
    addForm(route, change), replaceForm(route, change), ownerForm(type, id, route, change))
  focusResult(heading)
}

type Changer = (run: () => Promise<string>) => Promise<void>

function schedule (): { expires: HTMLInputElement, starts: HTMLInputElement, nodes: HTMLElement[] } {
  const expires = input('expiresAt', { type: 'datetime-local' })
  const starts = input('startsAt', { type: 'datetime-local' })
  return { expires, starts, nodes: [field('Expires (optional)', expires), field('Starts (optional)', starts, 'A scheduled grant counts only from then.')] }
}

function addForm (route: string, change: Changer): HTMLElement {
  const grantee = granteeFields('Grantee', true)
  const privilege = select('privilege', session.config.privileges.map((p) => [p, p]))
  const when = schedule()
  const reason = input('reason', { maxlength: 500 })
  return h('fieldset', {}, h('legend', {}, 'Add a grant'), form('Add a grant', () => change(async () => {
    const who = grantee.describe()
    const body = { grantee: grantee.value(), privilege: privilege.value, expiresAt: format.instant(when.expires.value), startsAt: format.instant(when.starts.value), reason: reason.value === '' ? undefined : reason.value }
    const answer = await call<Change>('POST', `${route}/grants`, { body })
    if (!answer.before.includes(privilege.value)) return `Granted ${privilege.value} to ${who}.`
    return answer.changed.length > 0 ? `${who} already held ${privilege.value}; its dates were changed.` : `${who} already held ${privilege.value} with these dates: nothing changed.`
  }), ...grantee.nodes, field('Privilege', privilege), ...when.nodes, field('Reason (optional)', reason), submit('Add grant')))
}

function replaceForm (route: string, change: Changer): HTMLElement {
  const grantee = granteeFields('Grantee', true)
  const boxes = session.config.privileges.map((p) => h('input', { type: 'checkbox', name: 'privileges', value: p }))
  const when = schedule()
  const reason = input('reason', { maxlength: 500 })
  const choices = h('fieldset', { class: 'choices' }, h('legend', {}, 'Privileges they hold afterwards'),
    ...boxes.map((box) => h('label', {}, box, ` ${box.value}`)))
  return h('fieldset', {}, h('legend', {}, "Replace a grantee's privileges"), form("Replace a grantee's privileges", () => change(async () => {
    const who = grantee.describe()
    const g = grantee.value()
    const target = g.kind === 'anonymous' ? '/grantees/anonymous' : `/grantees${path(g.kind, g.id ?? '')}`
    const privileges = boxes.filter((box) => box.checked).map((box) => box.value)
    const note = reason.value === '' ? undefined : reason.value
    if (privileges.length === 0) {
      await call('DELETE', route + target, { query: { reason: note } })
      return `${who} now holds nothing here.`
    }
    await call('PUT', route + target, { body: { privileges, expiresAt: format.instant(when.expires.value), startsAt: format.instant(when.starts.value), reason: note } })
    return `${who} now holds exactly ${privileges.join(', ')}.`
  }), ...grantee.nodes, choices, ...when.nodes, field('Reason (optional)', reason), submit('Replace privileges')))
}

function ownerForm (type: string, id: string, route: string, change: Changer): HTMLElement {
  const owner = input('owner', { maxlength: 256 })
  const reason = input('reason', { maxlength: 500 })
  return h('fieldset', {}, h('legend', {}, 'Hand on ownership'), form('Hand on ownership', () => change(async () => {
    const next = owner.value === '' ? null : owner.value
    await call('PUT', `${route}/owner`, { body: { owner: next, reason: reason.value === '' ? undefined : reason.value } })
    return next === null ? `${type} ${id} now has no owner.` : `The owner of ${type} ${id} is now ${next}.`
  }), field('New owner (a user id; empty: no owner)', owner), field('Reason (optional)', reason), submit('Set owner')))
}
