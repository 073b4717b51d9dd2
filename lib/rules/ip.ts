import ipaddr from 'ipaddr.js'
import { BoundedCache } from './bounded-cache.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/** A whitelist `list`, parsed once at load. */
export interface IpMatcher {
  readonly exact: ReadonlySet<string>
  readonly ranges: ReadonlyArray<{ readonly network: string, readonly from: number, readonly to: number }>
  readonly cidrs: ReadonlyArray<readonly [Address, number]>
}

const LAST_OCTET_RANGE = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})-(\d{1,3})$/

function addEntry (entry: string, exact: Set<string>, ranges: Array<IpMatcher['ranges'][number]>, cidrs: Array<IpMatcher['cidrs'][number]>): string | null {
  if (entry === 'localhost') {
    exact.add('127.0.0.1')
    exact.add('::1')
    return null
  }
  const range = LAST_OCTET_RANGE.exec(entry)
  if (range !== null) {
    const [, network, fromText, toText] = range
    const first = `${network}.${fromText}`
    const last = `${network}.${toText}`
    if (!ipaddr.IPv4.isValidFourPartDecimal(first) || !ipaddr.IPv4.isValidFourPartDecimal(last)) {
      return `invalid IPv4 range "${entry}"`
    }
    const from = Number(fromText)
    const to = Number(toText)
    if (from > to) return `IPv4 range "${entry}" runs backwards`
    ranges.push({ network, from, to })
    return null
  }
  if (entry.includes('/')) {
    const [addressText = '', bitsText = ''] = entry.split('/')
    if (!/^\d{1,3}$/.test(bitsText)) return `invalid CIDR "${entry}"`
    const address = parseStrict(addressText)
    if (address === null) return `invalid CIDR "${entry}"`
    const bits = Number(bitsText)
    if (bits > (address.kind() === 'ipv4' ? 32 : 128)) return `invalid CIDR "${entry}"`
    cidrs.push([address, bits])
    return null
  }
  const address = parseStrict(entry)
  if (address === null) return `invalid IP address "${entry}"`
  exact.add(address.toString())
  return null
}

/**
 * Build a matcher from a whitelist `list`, or describe the first bad entry so
 * the caller can raise a RulesConfigError that points at it.
 */
export function compileIpList (list: readonly string[]): IpMatcher | { error: string, index: number } {
  const exact = new Set<string>()
  const ranges: Array<IpMatcher['ranges'][number]> = []
  const cidrs: Array<IpMatcher['cidrs'][number]> = []
  for (const [index, entry] of list.entries()) {
    const error = addEntry(entry, exact, ranges, cidrs)
    if (error !== null) return { error, index }
  }
  return { exact, ranges, cidrs }
}

/**
 * Parse an address strictly: four-part decimal IPv4 only (`127.1`,
 * `0x7f.1`, `2130706433` and leading zeros are refused, since inet_aton-style
 * forms let one address be written many ways), or IPv6. IPv4-mapped IPv6 is
 * returned as the IPv4 address it carries. Scoped IPv6 (`fe80::1%eth0`) keeps
 * its zone but is compared on its address bits only.
 */
function parseStrict (text: string): Address | null {
  if (typeof text !== 'string') return null
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text)
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null
  if (text.includes('.')) {
    // ipaddr.js accepts loose IPv4 forms after the last colon (`::ffff:0x7f.0.0.1`)
    // and reads IPv4-compatible `::127.0.0.1` as mapped; allow only the
    // mapped form with a strict dotted quad.
    const lastColon = text.lastIndexOf(':')
    if (!ipaddr.IPv4.isValidFourPartDecimal(text.slice(lastColon + 1))) return null
    if (!/(^|:)ffff$/i.test(text.slice(0, lastColon))) return null
  }
  const v6 = ipaddr.IPv6.parse(text)
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6
}

/** Canonical text used as the set key for exact matches (zone dropped). */
function canonical (address: Address): string {
  if (address.kind() === 'ipv4') return address.toString()
  return new ipaddr.IPv6((address as ipaddr.IPv6).parts).toString()
}

/**
 * Whether an already-parsed client address is on the list. `key` is
 * `canonical(address)`, for callers that test one address against several lists.
 */
export function ipMatches (matcher: IpMatcher, address: Address, key: string = canonical(address)): boolean {
  if (matcher.exact.has(key)) return true
  if (address.kind() === 'ipv4') {
    const octets = (address as ipaddr.IPv4).octets
    const network = `${octets[0]}.${octets[1]}.${octets[2]}`
    const last = octets[3]
    for (const range of matcher.ranges) {
      if (range.network === network && last >= range.from && last <= range.to) return true
    }
  }
  for (const [base, bits] of matcher.cidrs) {
    if (base.kind() === address.kind() && address.match(base, bits)) return true
  }
  return false
}

export interface ParsedAddress {
  readonly address: Address
  readonly key: string
}

const RECENT_MAX = 1024
const RECENT_ADDRESS_LENGTH = 64

/**
 * parseStrict() and canonical(), remembered for recently seen addresses:
 * clients send many requests from one address. The cached objects are only
 * ever read.
 */
export class AddressCache {
  readonly #recent = new BoundedCache<ParsedAddress | null>(RECENT_MAX)

  parse (text: string): ParsedAddress | null {
    const known = this.#recent.get(text)
    if (known !== undefined) return known
    const address = parseStrict(text)
    const parsed = address === null ? null : Object.freeze({ address, key: canonical(address) })
    if (typeof text === 'string' && text.length <= RECENT_ADDRESS_LENGTH) this.#recent.set(text, parsed)
    return parsed
  }
}
