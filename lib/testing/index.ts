// fastify-default-deny/testing: policy tests from code, for any test runner
// whose test can await a promise (tap and node:test are the ones tested):
// `await policyTest('policies/*.yaml')` passes
// when every assertion holds and throws an error listing each failure, with
// explain's account of it, otherwise.
import { formatReport } from './report.js'
import { runPolicyTests, type PolicyTestOptions, type PolicyTestRun } from './run.js'

export { FIXTURE_SCHEMA } from './fixture-schema.js'
export { FixtureError, type Assertion, type Fixture, type World } from './fixture.js'
export { loadFixture } from './load.js'
export { formatReport, REPORTERS, type Reporter } from './report.js'
export { AppError, runPolicyTests, type AppBuilder, type CoverageResult, type FixtureResult, type PolicyTestOptions, type PolicyTestRun } from './run.js'
export type { AssertionResult } from './assertions.js'

/** A policy-test run with a failure: `run` has every result, the message the failures in words. */
export class PolicyTestFailure extends Error {
  constructor (readonly run: PolicyTestRun) {
    super(`policy tests failed:\n${formatReport(run)}`)
    this.name = 'PolicyTestFailure'
  }
}

/**
 * Runs the fixtures `patterns` name (files or globs) on the plugin's real
 * decision code, each in a fresh in-memory world; resolves with the run when
 * everything holds, and rejects with a PolicyTestFailure otherwise.
 *
 * @example
 * import { test } from 'node:test'
 * import { policyTest } from 'fastify-default-deny/testing'
 * test('permissions', async () => { await policyTest('policies/*.yaml') })
 */
export async function policyTest (patterns: string | readonly string[], options: PolicyTestOptions = {}): Promise<PolicyTestRun> {
  const run = await runPolicyTests(patterns, options)
  if (!run.ok) throw new PolicyTestFailure(run)
  return run
}
