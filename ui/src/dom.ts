// The page's only way to make DOM: elements by name, attributes by
// setAttribute, text by text nodes. Nothing here parses HTML, so an id or a
// reason from the server (attacker-controlled) is only ever text.

export type Child = Node | string | number | null | undefined | false
type Handlers = { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void }
export interface Props {
  [attribute: string]: string | number | boolean | null | undefined | Handlers
  on?: Handlers
}

// Event handler attributes and HTML-bearing attributes are never set from here.
const REFUSED = /^(on|srcdoc$|innerhtml$|outerhtml$|style$)/i

export function h<K extends keyof HTMLElementTagNameMap> (tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (name === 'on') {
      for (const [type, handler] of Object.entries(value as Handlers)) element.addEventListener(type, handler as EventListener)
      continue
    }
    if (REFUSED.test(name)) throw new Error(`attribute ${name} is not set by this page`)
    if (value === false || value === null || value === undefined) continue
    element.setAttribute(name, value === true ? '' : String(value))
  }
  append(element, ...children)
  return element
}

export function append (parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** Replaces every child of `parent`. */
export function replace (parent: Node, ...children: Child[]): void {
  while (parent.firstChild !== null) parent.removeChild(parent.firstChild)
  append(parent, ...children)
}

let counter = 0
/** A unique element id, for label `for` and aria references. */
export function uid (name: string): string {
  counter += 1
  return `${name}-${counter}`
}

/** A labelled form control: the label's `for` and the control's id agree. */
export function field (label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
  const id = control.id === '' ? uid(control.name || 'field') : control.id
  control.id = id
  let hintNode: HTMLElement | null = null
  if (hint !== undefined) {
    hintNode = h('small', { id: `${id}-hint`, class: 'hint' }, hint)
    control.setAttribute('aria-describedby', hintNode.id)
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintNode)
}

export function select (name: string, options: Array<[value: string, label: string]>, selected?: string): HTMLSelectElement {
  const element = h('select', { name })
  for (const [value, label] of options) element.appendChild(h('option', { value, selected: value === selected }, label))
  return element
}

/** A table whose header cells are scoped, in a region that scrolls sideways on a narrow screen. */
export function table (caption: string, headers: string[], rows: HTMLTableRowElement[]): HTMLElement {
  const head = h('tr', {}, ...headers.map((name) => h('th', { scope: 'col' }, name)))
  const region = h('div', { class: 'scroll', role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', {}, h('caption', {}, caption), h('thead', {}, head), h('tbody', {}, ...rows)))
  return region
}
