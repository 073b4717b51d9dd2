// Reading a fixture file: JSON, or YAML through the `yaml` package. Both give
// the document and a way to find the line of a path in it, so that an error
// names where to look.
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { isNode, LineCounter, parseDocument } from 'yaml'
import { FixtureError } from './fixture.js'

export interface Parsed {
  value: unknown
  /** The line (from 1) where the value at this JSON pointer begins, when known. */
  lineOf: (pointer: string) => number | undefined
}

const segments = (pointer: string): Array<string | number> => pointer.split('/').slice(1)
  .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
  .map((s) => /^\d+$/.test(s) ? Number(s) : s)

// YAML's core schema (the package's default) reads 2027-01-31 as a string,
// not a date, and refuses duplicate keys: what a fixture needs.
function parseYaml (file: string, text: string): Parsed {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const [error] = document.errors
  if (error !== undefined) {
    throw new FixtureError(file, '', `is not valid YAML: ${error.message.split('\n')[0] as string}`, lines.linePos(error.pos[0]).line)
  }
  return {
    value: document.toJS({ maxAliasCount: 100 }),
    lineOf: (pointer) => {
      const node = pointer === '' ? document.contents : document.getIn(segments(pointer), true)
      return isNode(node) && node.range !== undefined && node.range !== null ? lines.linePos(node.range[0]).line : undefined
    }
  }
}

function parseJson (file: string, text: string): Parsed {
  try {
    return { value: JSON.parse(text), lineOf: () => undefined }
  } catch (err) {
    throw new FixtureError(file, '', `is not valid JSON: ${(err as Error).message}`)
  }
}

/** The file's document: `.yaml`/`.yml` as YAML, anything else as JSON. */
export async function parseFixtureFile (file: string): Promise<Parsed> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new FixtureError(file, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  const ext = extname(file).toLowerCase()
  return ext === '.yaml' || ext === '.yml' ? parseYaml(file, text) : parseJson(file, text)
}
