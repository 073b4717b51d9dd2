// A resource: its owner, who holds what and why (on it, or on which
// ancestor), where it sits in its tree, and the forms that share, revoke,
// replace a grantee's set, hand on ownership and move it.
import { call, path, session } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { fail, focusResult, form, go, granteeFields, input, needToken, resourceFields, submit, changer } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type ManagedGrant = Answer<'Grant'>
type GrantsAnswer = Answer<'GrantList'>
type Change = Answer<'Change'>
type Ancestors = Answer<'AncestorList'>
type ChildPage = Answer<'ChildPage'>
type Ref = { resource: string, id: string }

const SOURCES = { owner: 'owner', explicit: 'explicit grant', type: 'type-level (every resource of the type)', ancestor: 'inherited' }
const CHILDREN_PAGE = 20

/** A link to another resource's view: the hash is built from URLSearchParams, the text is a text node. */
function resourceLink (ref: Ref, label = `${ref.resource} ${ref.id}`): HTMLAnchorElement {
  return h('a', { href: `#/resource?${new URLSearchParams({ type: ref.resource, id: ref.id }).toString()}` }, label)
}

/** Where an inherited grant comes from, in words, with a link to that ancestor. */
function origin (g: ManagedGrant): HTMLElement | string {
  if (g.source !== 'ancestor' || g.from === undefined) return SOURCES[g.source]
  return h('span', {}, g.from.owner ? 'owner of ' : 'inherited from ', resourceLink(g.from))
}

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
  // The reason goes with the Revoke buttons it is recorded for: right above them.
  const revokeField = field('Reason recorded with a revoke (optional)', revokeReason, 'Recorded in the audit trail with the next Revoke below.')

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
    const shown = answer.grants.filter((g) => g.source !== 'owner' && !(g.source === 'ancestor' && g.from?.owner === true))
    if (owned.length > 0) shown.unshift({ ...(owned[0] as ManagedGrant), privilege: owned.map((g) => g.privilege).join(', ') })
    // An ancestor's owner holds each owner privilege there: one row per ancestor says so.
    const ancestorOwners = new Map<string, ManagedGrant[]>()
    for (const g of answer.grants) {
      if (g.source !== 'ancestor' || g.from?.owner !== true) continue
      const key = JSON.stringify([g.from.resource, g.from.id])
      ancestorOwners.set(key, [...(ancestorOwners.get(key) ?? []), g])
    }
    for (const held of ancestorOwners.values()) shown.push({ ...(held[0] as ManagedGrant), privilege: held.map((g) => g.privilege).join(', ') })
    const rows = shown.map((g) => {
      const who = format.grantee(g.grantee)
      const action = g.source === 'explicit'
        ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${g.privilege} from ${who}`, 'aria-describedby': revokeReason.id, on: { click: () => { void revoke(g) } } }, 'Revoke')
        : g.source === 'ancestor' && g.from !== undefined
          ? resourceLink(g.from, `change on ${g.from.resource} ${g.from.id}`)
          : h('span', { class: 'muted' }, g.source === 'owner' ? 'set the owner below' : 'type-level')
      return h('tr', {},
        h('th', { scope: 'row' }, who), h('td', {}, g.privilege), h('td', {}, origin(g)), h('td', {}, g.grantedBy ?? '—'),
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

  const tree = session.config.hierarchy ? treeSection(type, id, route, forbidden) : null
  const refreshAll = async (): Promise<boolean> => {
    const shown = await refresh()
    if (shown && tree !== null) await tree.refresh()
    return shown
  }
  if (!await refreshAll()) return
  const changeAll = changer(refreshAll, forbidden)
  replace(result, heading, tree?.path ?? null, owner, h('div', { class: 'grants' }, revokeField, grants),
    addForm(route, change), replaceForm(route, change), ownerForm(type, id, route, change),
    tree?.children ?? null, tree === null ? null : parentForm(type, id, route, changeAll))
  focusResult(heading)
}

/**
 * Where the resource sits: its ancestors as a path to follow (root first,
 * each a link to its own view) and its children a page at a time.
 */
function treeSection (type: string, id: string, route: string, forbidden: { forbidden: string }): { path: HTMLElement, children: HTMLElement, refresh: () => Promise<void> } {
  const crumbs = h('nav', { class: 'path', 'aria-label': `Where ${type} ${id} is` })
  const list = h('div')
  const more = h('button', { type: 'button', hidden: true }, 'More children')
  let next: string | null = null
  const childRows: HTMLElement[] = []

  function showChildren (): void {
    replace(list, childRows.length === 0
      ? h('p', { class: 'empty' }, `${type} ${id} has no children.`)
      : h('ul', { class: 'children', 'aria-label': `Children of ${type} ${id}` }, ...childRows))
    more.hidden = next === null
  }

  async function loadChildren (after: string | null): Promise<void> {
    const page = await call<ChildPage>('GET', `${route}/children`, { query: { limit: String(CHILDREN_PAGE), after: after ?? undefined } })
    if (after === null) childRows.length = 0
    for (const child of page.children) childRows.push(h('li', {}, resourceLink(child)))
    next = page.next
    showChildren()
  }
  more.addEventListener('click', () => {
    void loadChildren(next).then(() => list.querySelector<HTMLElement>('li:last-child a')?.focus(), (err) => { fail(err, forbidden) })
  })

  async function refresh (): Promise<void> {
    const answer = await call<Ancestors>('GET', `${route}/ancestors`)
    const path: Array<HTMLElement | string> = []
    for (const ancestor of [...answer.ancestors].reverse()) path.push(resourceLink(ancestor), ' › ')
    if (answer.ancestors.length === 0) path.push('At the root (no parent): ')
    path.push(h('strong', { 'aria-current': 'page' }, `${type} ${id}`))
    replace(crumbs, ...path)
    await loadChildren(null)
  }
  const children = h('section', { class: 'children' }, h('h4', {}, 'Children'), list, more)
  return { path: crumbs, children, refresh }
}

function parentForm (type: string, id: string, route: string, change: Changer): HTMLElement {
  const parent = resourceFields('', '')
  parent.type.required = false
  parent.id.required = false
  const reason = input('reason', { maxlength: 500 })
  return h('fieldset', {}, h('legend', {}, 'Move in the tree'), form('Move in the tree', () => change(async () => {
    const to = parent.type.value === '' && parent.id.value === '' ? null : { resource: parent.type.value, id: parent.id.value }
    await call('PUT', `${route}/parent`, { body: { parent: to, reason: reason.value === '' ? undefined : reason.value } })
    return to === null ? `${type} ${id} has no parent now.` : `${type} ${id} is now under ${to.resource} ${to.id}.`
  }), h('p', { class: 'hint' }, 'Give the new parent, or leave both empty to take it out of its tree.'),
  field('Parent type', parent.type), field('Parent id', parent.id), field('Reason (optional)', reason), submit('Set parent')))
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
