// The resource types a grant may name: those of the route annotations, the
// declared ones (the `resources` option) and the stored groups' type. A
// grant on any other type never counts, so a typo is refused with the
// nearest known name instead of being stored. Pure: no I/O.

/** How many known names a refusal lists before it counts the rest. */
const LISTED = 20

/**
 * Edits (insert, delete, substitute, swap two neighbours) between two names:
 * "documnet" is one swap from "document".
 */
export function editDistance (a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min((rows[i - 1] as number[])[j] as number + 1, row[j - 1] as number + 1, (rows[i - 1] as number[])[j - 1] as number + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (rows[i - 2] as number[])[j - 2] as number + 1)
      row.push(best)
    }
    rows.push(row)
  }
  return (rows[a.length] as number[])[b.length] as number
}

export class ResourceTypes {
  readonly #known = new Set<string>()

  #declaredAny: boolean

  /**
   * `any`: every type is accepted (the `resources: 'any'` option).
   * `groupResource`: the stored groups' type, always known.
   */
  constructor (readonly any: boolean, declared: readonly string[], groupResource: string) {
    for (const type of declared) this.#known.add(type)
    this.#declaredAny = declared.length > 0
    this.#known.add(groupResource)
  }

  /** A type named by a route annotation, once the route is registered. */
  add (type: string): void {
    this.#known.add(type)
    this.#declaredAny = true
  }

  has (type: string): boolean {
    return this.any || this.#known.has(type)
  }

  list (): string[] {
    return [...this.#known].sort()
  }

  /** The known name closest to `type`, when it is close enough to be what was meant. */
  suggestion (type: string): string | null {
    // Past a length no known name has, nothing is near: no need to measure.
    const limit = Math.max(1, Math.floor(type.length / 4))
    let best: string | null = null
    let bestDistance = Infinity
    for (const known of this.list()) {
      if (Math.abs(known.length - type.length) > limit) continue
      const distance = editDistance(type.toLowerCase(), known.toLowerCase())
      if (distance <= limit && distance < bestDistance) {
        best = known
        bestDistance = distance
      }
    }
    return best
  }

  /** Why `type` is refused, in words; `quoted` renders what the caller sent. */
  refusal (type: string, quoted: (value: unknown) => string): string {
    const near = this.suggestion(type)
    const names = this.list()
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? ` and ${names.length - LISTED} more` : '')
    // Nothing declared or annotated yet: say where types come from (a CLI without --config, say).
    const hint = this.#declaredAny ? '' : " (declare your resource types in the 'resources' option, or annotate routes with them)"
    return `resource ${quoted(type)} is not a known resource type${near === null ? '' : ` (did you mean ${quoted(near)}?)`}; known: ${listed}${hint}`
  }
}
