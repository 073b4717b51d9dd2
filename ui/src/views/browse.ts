// The resources of a type, a page at a time: each with its owner and how
// many grants it has, filtered by the start of its id. The API shows only
// what the token manages (every one to a superuser), so this view does too.
import { call, path } from '../api.js'
import { field, h, replace, table } from '../dom.js'
import { fail, focusResult, form, go, input, needToken, submit } from '../page.js'
import type { Answer } from '../../../lib/shapes/grant-api.js'

type Page = Answer<'ResourcePage'>

const PAGE = 25

export function browseView (params: URLSearchParams): HTMLElement {
  const values = Object.fromEntries(params) as Record<string, string | undefined>
  const type = input('type', { value: values.type ?? '', required: true, maxlength: 256 })
  const prefix = input('prefix', { value: values.prefix ?? '', maxlength: 256 })
  const chooser = form('Browse resources', () => go('browse', { type: type.value, prefix: prefix.value }),
    field('Resource type', type), field('Id starts with (optional)', prefix, 'Matched as plain text: % and _ are themselves.'), submit('Browse'))
  chooser.classList.add('inline')
  const result = h('div', { class: 'result' })
  if (values.type !== undefined && values.type !== '' && needToken()) void show(result, values)
  return h('section', {}, h('h2', { tabindex: -1 }, 'Browse resources'),
    h('p', { class: 'intro' }, 'The resources of a type that have an owner, a parent or a grant, with their owner and how many grants each has. You see those you manage (a superuser sees every one).'),
    chooser, result)
}

async function show (result: HTMLElement, values: Record<string, string | undefined>): Promise<void> {
  const { type = '', prefix = '', after } = values
  let page: Page
  try {
    page = await call<Page>('GET', `/resources${path(type)}`, { query: { prefix, after, limit: String(PAGE) } })
  } catch (err) {
    fail(err)
    replace(result)
    return
  }
  const what = prefix === '' ? `Resources of type ${type}` : `Resources of type ${type} whose id starts with ${prefix}`
  const heading = h('h3', { tabindex: -1 }, after === undefined ? what : `${what}, after ${after}`)
  const rows = page.resources.map((r) => {
    const query = (view: string, extra: Record<string, string> = {}) => `#/${view}?${new URLSearchParams({ type, id: r.id, ...extra }).toString()}`
    return h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: query('resource') }, r.id)),
      h('td', {}, r.owner ?? '—'),
      h('td', {}, String(r.grants)),
      h('td', {}, h('a', { href: query('audit', { show: '1' }), 'aria-label': `Audit trail of ${type} ${r.id}` }, 'Audit trail')))
  })
  const nav = h('div', { class: 'pager' },
    after === undefined ? null : h('button', { type: 'button', on: { click: () => go('browse', { type, prefix }) } }, 'First page'),
    page.next === null ? h('span', { class: 'muted' }, 'No more resources.') : h('button', { type: 'button', on: { click: () => go('browse', { type, prefix, after: page.next ?? undefined }) } }, 'Next page'))
  replace(result, heading,
    rows.length === 0 ? h('p', { class: 'empty' }, 'No resources you manage here.') : table(what, ['Id', 'Owner', 'Grants', 'History'], rows),
    nav)
  focusResult(heading)
}
