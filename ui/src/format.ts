// How values from the API read on the page.
import type { Grantee } from './api.js'

export function grantee (g: Grantee | null): string {
  if (g === null) return '—'
  return g.kind === 'anonymous' ? 'everyone (anonymous)' : `${g.kind} ${g.id ?? ''}`
}

export function when (value: string | null | undefined): string {
  if (value === null || value === undefined) return '—'
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  return instantText(date)
}

/** A date and time with its time zone, so no one has to guess which clock it is on. */
export function instantText (date: Date): string {
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' })
}

/** A `datetime-local` field's value as an ISO instant, or undefined when empty. */
export function instant (value: string): string | undefined {
  if (value.trim() === '') return undefined
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? value : date.toISOString()
}

export function list (items: string[]): string {
  return items.length === 0 ? 'nothing' : items.join(', ')
}
