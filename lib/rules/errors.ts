/**
 * Thrown when a rules file cannot be loaded or fails validation.
 *
 * `pointer` locates the offending entry, for example `groups.localadmin[1].type`
 * (empty for problems with the file as a whole). Messages name entries and keys
 * but never echo token values.
 */
export class RulesConfigError extends Error {
  readonly pointer: string

  constructor (pointer: string, problem: string) {
    super(pointer === '' ? `rules: ${problem}` : `rules: ${pointer}: ${problem}`)
    this.name = 'RulesConfigError'
    this.pointer = pointer
  }
}
