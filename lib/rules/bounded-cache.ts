/**
 * A string-keyed memo that forgets everything once it holds `maxEntries`:
 * no eviction order to maintain, and memory stays bounded whatever clients
 * send. Callers decide which keys are worth remembering.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>()
  readonly #maxEntries: number

  constructor (maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  get (key: string): V | undefined {
    return this.#entries.get(key)
  }

  set (key: string, value: V): void {
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear()
    this.#entries.set(key, value)
  }
}
