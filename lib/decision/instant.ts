// Instants people type: in a grant's schedule, an import file, the grant API.
// `new Date()` rolls impossible dates over (2027-02-30 becomes March 2nd), so
// a typo would quietly lengthen someone's access: every field is checked
// against the calendar instead, and anything that is not a real instant is
// refused.

const FORM = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2})))?$/

export interface InstantRules {
  /** Whether a bare date (`2027-01-31`, midnight UTC) is accepted; the HTTP API wants a date-time with its offset. */
  dateOnly: boolean
}

function daysIn (year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** The instant `text` names, or null when it is not one: malformed, or a date or time that does not exist. */
export function parseInstant (text: string, { dateOnly }: InstantRules): Date | null {
  const m = FORM.exec(text)
  if (m === null) return null
  const [, y, mo, d, h, mi, s, fraction, zone, sign, oh, om] = m
  if (h === undefined && !dateOnly) return null
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null
  const hour = Number(h ?? 0)
  const minute = Number(mi ?? 0)
  const second = Number(s ?? 0)
  if (hour > 23 || minute > 59 || second > 59) return null
  let offset = 0
  if (zone !== undefined && zone !== 'Z') {
    const hours = Number(oh)
    const minutes = Number(om)
    if (hours > 23 || minutes > 59) return null
    offset = (sign === '-' ? -1 : 1) * (hours * 60 + minutes)
  }
  const millis = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000)
  const time = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset * 60_000
  const date = new Date(time)
  return Number.isFinite(time) ? date : null
}
