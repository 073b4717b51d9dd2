import { readFileSync } from 'node:fs'
import { RulesConfigError } from './errors.js'

export interface RulesFiles {
  /** The shared default rules file. */
  rulesFile?: string
  /** A site file; when it exists it replaces the default file entirely. */
  siteRulesFile?: string
}

/**
 * Read and parse the rules file in force. Files are not merged: an
 * existing site file is the only one read. Throws RulesConfigError naming the
 * file, never quoting its content.
 */
export function loadRulesFiles (files: RulesFiles): unknown {
  const { rulesFile, siteRulesFile } = files
  if (siteRulesFile !== undefined) {
    const site = readIfExists(siteRulesFile)
    if (site !== null) return parse(siteRulesFile, site)
  }
  if (rulesFile === undefined) {
    throw new RulesConfigError('', siteRulesFile === undefined
      ? 'no rules file given'
      : `site rules file ${siteRulesFile} does not exist and no default rules file was given`)
  }
  const text = readIfExists(rulesFile)
  if (text === null) throw new RulesConfigError('', `rules file ${rulesFile} does not exist`)
  return parse(rulesFile, text)
}

// Only "does not exist" falls back to the default file. A site file that
// exists but cannot be read is an error: silently using the default rules
// would replace the site's policy with a looser one.
function readIfExists (file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new RulesConfigError('', `cannot read rules file ${file} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`)
  }
}

function parse (file: string, text: string): unknown {
  try {
    // Editors on Windows may prepend a byte-order mark, which JSON.parse refuses.
    return JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text)
  } catch (error) {
    // V8's message can quote the file's content (tokens), so keep only the position.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1]
    throw new RulesConfigError('', `rules file ${file} is not valid JSON${position === undefined ? '' : ` (at position ${position})`}`)
  }
}
