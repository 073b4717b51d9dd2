// A run in words for a person (each failure with explain's account), or as
// TAP or JUnit XML for CI.
import type { AssertionResult } from './assertions.js'
import type { CoverageResult, FixtureResult, PolicyTestRun } from './run.js'

export type Reporter = 'text' | 'tap' | 'junit'
export const REPORTERS: readonly Reporter[] = ['text', 'tap', 'junit']

const indent = (lines: readonly string[], by: string) => lines.map((line) => `${by}${line}`)

function coverageLines (coverage: CoverageResult): string[] {
  return [
    ...coverage.unannotated.map((route) => `route ${route} has no annotation: every request to it is denied`),
    ...coverage.unexercised.map(({ resource, routes }) => `resource type ${resource} is never exercised by a fixture (needed by ${routes.join(', ')})`)
  ]
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function summary (run: PolicyTestRun): string {
  return `${plural(run.passed, 'assertion')} passed, ${run.failed} failed` +
    `${run.invalid > 0 ? `, ${plural(run.invalid, 'fixture')} invalid` : ''}` +
    `${run.coverage === null ? '' : run.coverage.ok ? ', routes covered' : `, ${plural(coverageLines(run.coverage).length, 'coverage failure')}`}` +
    ` (${plural(run.fixtures.length, 'fixture')})`
}

function failureLines (a: AssertionResult): string[] {
  return [...(a.message === undefined ? [] : [a.message]), ...a.explain]
}

/** For a terminal: every assertion, each failure with why. */
export function textReport (run: PolicyTestRun): string {
  const lines: string[] = []
  for (const fixture of run.fixtures) {
    lines.push(`${fixture.file}${fixture.name === undefined ? '' : ` (${fixture.name})`}`)
    if (fixture.error !== undefined) lines.push(`  invalid: ${fixture.error.message}`)
    for (const a of fixture.assertions) {
      lines.push(`  ${a.ok ? 'ok' : 'FAIL'} ${a.index + 1} ${a.title}`)
      if (!a.ok) lines.push(...indent(failureLines(a), '       '))
    }
  }
  if (run.coverage !== null) {
    lines.push('route coverage')
    if (run.coverage.ok) lines.push('  ok every route is annotated, and every resource type they need is exercised')
    else lines.push(...coverageLines(run.coverage).map((line) => `  FAIL ${line}`))
  }
  lines.push(summary(run))
  return `${lines.join('\n')}\n`
}

// TAP's YAML diagnostics: strings quoted as JSON, which YAML reads too.
const yamlBlock = (fields: Record<string, string | string[]>) => [
  '  ---',
  ...Object.entries(fields).flatMap(([key, value]) => Array.isArray(value)
    ? [`  ${key}:`, ...value.map((line) => `    - ${JSON.stringify(line)}`)]
    : [`  ${key}: ${JSON.stringify(value)}`]),
  '  ...'
]

/** TAP version 14: one test point per assertion, per invalid fixture, and for route coverage. */
export function tapReport (run: PolicyTestRun): string {
  const points: string[][] = []
  const point = (ok: boolean, name: string, diagnostics?: Record<string, string | string[]>) => {
    points.push([`${ok ? 'ok' : 'not ok'} ${points.length + 1} - ${name.replaceAll('#', '\\#')}`, ...(ok || diagnostics === undefined ? [] : yamlBlock(diagnostics))])
  }
  for (const fixture of run.fixtures) {
    if (fixture.error !== undefined) point(false, `${fixture.file}: invalid fixture`, { message: fixture.error.message })
    for (const a of fixture.assertions) point(a.ok, `${fixture.file}: ${a.title}`, { message: a.message ?? '', explain: a.explain })
  }
  if (run.coverage !== null) point(run.coverage.ok, 'route coverage', { message: 'routes not covered', failures: coverageLines(run.coverage) })
  return ['TAP version 14', `1..${points.length}`, ...points.flat(), `# ${summary(run)}`, ''].join('\n')
}

const xml = (text: string) => text.replace(/[&<>"']/g, (c) => `&${({ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' } as Record<string, string>)[c] as string};`)
  // Characters XML 1.0 cannot carry at all.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

function suite (name: string, cases: Array<{ name: string, failure?: { message: string, body: string[] } }>): string[] {
  const failures = cases.filter((c) => c.failure !== undefined).length
  return [
    `  <testsuite name="${xml(name)}" tests="${cases.length}" failures="${failures}" errors="0">`,
    ...cases.map((c) => c.failure === undefined
      ? `    <testcase classname="${xml(name)}" name="${xml(c.name)}"/>`
      : `    <testcase classname="${xml(name)}" name="${xml(c.name)}">\n      <failure message="${xml(c.failure.message)}">${xml(c.failure.body.join('\n'))}</failure>\n    </testcase>`),
    '  </testsuite>'
  ]
}

function fixtureCases (fixture: FixtureResult) {
  if (fixture.error !== undefined) return [{ name: 'invalid fixture', failure: { message: fixture.error.message, body: [fixture.error.message] } }]
  return fixture.assertions.map((a) => ({ name: a.title, ...(a.ok ? {} : { failure: { message: a.message ?? 'failed', body: failureLines(a) } }) }))
}

/** JUnit XML: a test suite per fixture file, a test case per assertion. */
export function junitReport (run: PolicyTestRun): string {
  const suites = run.fixtures.map((fixture) => suite(fixture.file, fixtureCases(fixture)))
  if (run.coverage !== null) {
    const lines = coverageLines(run.coverage)
    suites.push(suite('route coverage', run.coverage.ok ? [{ name: 'routes covered' }] : lines.map((line) => ({ name: line, failure: { message: line, body: [line] } }))))
  }
  const tests = run.passed + run.failed + run.invalid
  return ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="fastify-default-deny policy tests" tests="${tests}" failures="${run.failed + run.invalid}">`, ...suites.flat(), '</testsuites>', ''].join('\n')
}

export function formatReport (run: PolicyTestRun, reporter: Reporter = 'text'): string {
  return reporter === 'tap' ? tapReport(run) : reporter === 'junit' ? junitReport(run) : textReport(run)
}
