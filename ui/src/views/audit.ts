// The audit trail: a resource's, or for superusers everyone's, newest
// first, a page at a time; and the hash chain's verification.
import { call, path } from '../api.js'
import { field, h, replace, select, table } from '../dom.js'
import * as format from '../format.js'
import { announce, fail, focusResult, form, go, input, needToken, submit } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type Page = Answer<'AuditPage'>
type Verification = Answer<'AuditVerification'>

const SUPERUSERS = 'Only superusers may read the whole audit trail or verify its chain; give a resource to read its own trail.'

export function auditView (params: URLSearchParams): HTMLElement {
  const values = Object.fromEntries(params) as Record<string, string | undefined>
  const type = input('type', { value: values.type ?? '', maxlength: 256 })
  const id = input('id', { value: values.id ?? '', maxlength: 256 })
  const kind = select('kind', [['', 'anyone'], ['user', 'user'], ['group', 'group'], ['anonymous', 'everyone (anonymous)']], values.kind ?? '')
  const principal = input('principal', { value: values.principal ?? '', maxlength: 256 })
  const limit = select('limit', [['10', '10'], ['25', '25'], ['50', '50'], ['100', '100']], values.limit ?? '25')
  const chooser = form('Choose a trail', () => go('audit', {
    show: '1',
    type: type.value, id: id.value, kind: kind.value, principal: kind.value === 'anonymous' ? undefined : principal.value, limit: limit.value
  }), field('Resource type', type, 'Leave type and id empty for the whole trail (superusers).'), field('Resource id', id),
  field('Concerning', kind), field('Their id', principal), field('Entries per page', limit), submit('Show trail'))
  const result = h('div', { class: 'result' })
  const verdict = h('div', { class: 'verdict' })
  const verify = h('button', { type: 'button', on: { click: () => { void verifyChain(verdict) } } }, 'Verify the audit chain')
  if (values.show === '1' && needToken()) void show(result, values)
  return h('section', {}, h('h2', { tabindex: -1 }, 'Audit trail'),
    h('p', { class: 'intro' }, 'Every change of grants, owners and memberships, newest first.'),
    chooser, result, h('h3', {}, 'Is the trail intact?'), verify, verdict)
}

async function show (result: HTMLElement, values: Record<string, string | undefined>): Promise<void> {
  const { type = '', id = '', kind, principal, limit = '25', before } = values
  const resource = type !== '' && id !== ''
  const route = resource ? `${path(type, id)}/audit` : '/audit'
  let page: Page
  try {
    page = await call<Page>('GET', route, { query: { limit, before, kind, principal: kind === 'anonymous' ? undefined : principal } })
  } catch (err) {
    fail(err, { forbidden: resource ? `You do not manage ${type} ${id}: only its owner, a superuser or a holder of manage on it may read its trail.` : SUPERUSERS })
    replace(result)
    return
  }
  const title = resource ? `Audit trail of ${type} ${id}` : 'The whole audit trail'
  const heading = h('h3', { tabindex: -1 }, before === undefined ? `${title}, newest first` : `${title}, entries before No. ${before}`)
  const rows = page.entries.map((e) => h('tr', {},
    h('th', { scope: 'row' }, e.seq), h('td', {}, format.when(e.at)), h('td', {}, e.actor ?? '—'), h('td', {}, e.action),
    h('td', {}, format.grantee(e.grantee)), h('td', {}, e.resource === '' ? '—' : `${e.resource} ${e.id ?? '(every one)'}`),
    h('td', {}, `${format.list(e.before)} → ${format.list(e.after)}`), h('td', {}, e.reason ?? '')))
  const nav = h('div', { class: 'pager' },
    before === undefined ? null : h('button', { type: 'button', on: { click: () => go('audit', { ...values, before: undefined }) } }, 'Newest entries'),
    page.next === null ? h('span', { class: 'muted' }, 'No older entries.') : h('button', { type: 'button', on: { click: () => go('audit', { ...values, before: page.next ?? undefined }) } }, 'Older entries'))
  replace(result, heading,
    rows.length === 0 ? h('p', { class: 'empty' }, 'No entries.') : table(title, ['No.', 'When', 'Actor', 'Action', 'Grantee', 'On', 'Change', 'Reason'], rows),
    nav)
  focusResult(heading)
}

async function verifyChain (verdict: HTMLElement): Promise<void> {
  if (!needToken()) return
  let answer: Verification
  try {
    answer = await call<Verification>('GET', '/audit/verify')
  } catch (err) {
    fail(err, { forbidden: SUPERUSERS })
    return
  }
  const text = answer.ok
    ? `The audit chain is intact: ${answer.entries} entries checked.`
    : `The audit chain is broken: ${answer.brokenCount} of ${answer.entries} entries do not fit, the first is No. ${answer.brokenAt ?? '?'}.`
  replace(verdict, h('p', { class: answer.ok ? 'summary allow' : 'summary deny' }, text), answer.ok
    ? null
    : h('ul', {}, ...answer.broken.map((b) => h('li', {}, `No. ${b.seq}: ${b.problem === 'hash' ? 'the entry was edited' : 'an entry before it was deleted, or one was slipped in'}`))))
  announce(text)
}
