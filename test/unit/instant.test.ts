// Instants people type are parsed against the calendar: impossible dates are
// refused, never rolled over into a later day (which would lengthen access).
import t from 'tap'
import fc from 'fast-check'
import { parseInstant } from '../../lib/decision/instant.js'

const CLI = { dateOnly: true }
const HTTP = { dateOnly: false }

t.test('impossible dates and times are refused', async (t) => {
  for (const text of ['2027-02-30', '2027-02-31T10:00:00Z', '2027-04-31', '2026-02-29', '2027-13-01', '2027-00-10', '2027-01-00',
    '2027-01-01T24:00:00Z', '2027-01-01T12:60:00Z', '2027-01-01T12:00:60Z', '2027-01-01T12:00:00+24:00', '2027-01-01T12:00:00+01:60',
    '2027-01-01T12:00:00', '27-01-01', '2027-1-1', ' 2027-01-01', '2027-01-01Z', 'tomorrow', '']) {
    t.equal(parseInstant(text, CLI), null, text)
  }
})

t.test('real instants parse exactly, with their offset', async (t) => {
  t.equal(parseInstant('2028-02-29', CLI)?.toISOString(), '2028-02-29T00:00:00.000Z', 'a leap day')
  t.equal(parseInstant('2000-02-29T23:59:59.999Z', HTTP)?.toISOString(), '2000-02-29T23:59:59.999Z')
  t.equal(parseInstant('2027-01-31T12:00:00+02:00', HTTP)?.toISOString(), '2027-01-31T10:00:00.000Z')
  t.equal(parseInstant('2027-01-31 12:00-0130', CLI)?.toISOString(), '2027-01-31T13:30:00.000Z')
  t.equal(parseInstant('2027-01-31T12:00:00.123456789Z', HTTP)?.toISOString(), '2027-01-31T12:00:00.123Z')
  t.equal(parseInstant('2027-01-31', HTTP), null, 'the HTTP API wants a date-time with its offset')
})

t.test('every instant written as ISO 8601 reads back as itself', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
    return parseInstant(date.toISOString(), HTTP)?.getTime() === date.getTime()
  }), { seed: 1, numRuns: 2000 }))
})
