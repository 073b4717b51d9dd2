// What every view shares: the status and alert regions, navigation by the
// URL's hash (`#/view?key=value`), and the forms' common fields.
import { session, type Grantee } from './api.js'
import { field, h, replace, select } from './dom.js'
import { sentence, type Context } from './messages.js'

// Each view shown starts a new generation: a message of an earlier view,
// even one still waiting for its frame, is never shown on a later one.
let generation = 0

/** Empties the status and alert regions: a new view says nothing of the last one's results. */
export function clearMessages (): void {
  generation += 1
  replace(byId('status'))
  replace(byId('error'))
}

export function announce (text: string): void {
  replace(byId('error'))
  // Emptied first, so the same sentence twice is read out twice.
  replace(byId('status'))
  const at = generation
  requestAnimationFrame(() => { if (at === generation) replace(byId('status'), text) })
}

export function fail (err: unknown, context?: Context): void {
  replace(byId('status'))
  replace(byId('error'))
  const text = typeof err === 'string' ? err : sentence(err, context)
  const at = generation
  requestAnimationFrame(() => { if (at === generation) replace(byId('error'), text) })
}

/**
 * A view's way to change something: with a token, `run` the change, show the
 * view afresh, then say what was done; a refusal is said in `context`'s words.
 */
export function changer (refresh: () => Promise<unknown>, context: Context): (run: () => Promise<string>) => Promise<void> {
  return async (run) => {
    if (!needToken()) return
    try {
      const done = await run()
      await refresh()
      announce(done)
    } catch (err) {
      fail(err, context)
    }
  }
}

export function byId (id: string): HTMLElement {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} is missing`)
  return element
}

export function go (view: string, params: Record<string, string | undefined>): void {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') query.set(name, value)
  const hash = `#/${view}${query.size > 0 ? `?${query.toString()}` : ''}`
  // The same hash fires no hashchange: show it again anyway (a reload of the data).
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'))
  else location.hash = hash
}

/** Makes sure a token is there before asking the API; says so when it is not. */
export function needToken (): boolean {
  if (session.token !== null) return true
  fail('Paste a token (or sign in to the application) first: the page can only show what your token may see.')
  return false
}

/** Moves focus to a freshly loaded result, unless the user has moved on since the view opened. */
export function focusResult (heading: HTMLElement): void {
  const active = document.activeElement
  if (active === null || active === document.body || active.matches('h2')) heading.focus()
}

export function input (name: string, props: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h('input', { name, type: 'text', autocomplete: 'off', spellcheck: 'false', ...props })
}

export function form (label: string, onSubmit: () => void | Promise<void>, ...children: Array<HTMLElement | null>): HTMLFormElement {
  return h('form', {
    'aria-label': label,
    on: {
      submit: (event: SubmitEvent) => {
        event.preventDefault()
        void onSubmit()
      }
    }
  }, ...children)
}

export interface GranteeFields {
  nodes: HTMLElement[]
  value: () => Grantee
  describe: () => string
}

/** Who a grant or membership is for: a kind and, except for anonymous, an id. */
export function granteeFields (label: string, anonymous: boolean): GranteeFields {
  const kinds: Array<[string, string]> = [['user', 'user'], ['group', 'group']]
  if (anonymous) kinds.push(['anonymous', 'everyone (anonymous)'])
  const kind = select('kind', kinds, 'user')
  const id = input('principal', { required: true, maxlength: 256 })
  kind.addEventListener('change', () => {
    id.disabled = kind.value === 'anonymous'
    id.required = !id.disabled
  })
  const value = (): Grantee => kind.value === 'anonymous' ? { kind: 'anonymous' } : { kind: kind.value as 'user' | 'group', id: id.value }
  return {
    nodes: [field(`${label} kind`, kind), field(`${label} id`, id)],
    value,
    describe: () => kind.value === 'anonymous' ? 'everyone (anonymous)' : `${kind.value} ${id.value}`
  }
}

export function submit (label: string): HTMLButtonElement {
  return h('button', { type: 'submit' }, label)
}

export function resourceFields (type: string, id: string): { nodes: HTMLElement[], type: HTMLInputElement, id: HTMLInputElement } {
  const typeInput = input('type', { value: type, required: true, maxlength: 256 })
  const idInput = input('id', { value: id, required: true, maxlength: 256 })
  return { nodes: [field('Resource type', typeInput), field('Resource id', idInput)], type: typeInput, id: idInput }
}
