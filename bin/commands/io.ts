// Where a command reads and writes, which environment it sees, and what it
// leaves behind for its exit code. The executable gives each command its own
// context on the process's streams; the tests run many commands in one
// process, each in a context of its own with captured streams and its own
// environment, so no state of one command is seen by the next.
import { AsyncLocalStorage } from 'node:async_hooks'

/** A stream the tool writes to; `isTTY` and `columns` as a terminal has them. */
export type Output = NodeJS.WritableStream & { isTTY?: boolean, columns?: number }
/** The stream the tool reads (import -, the prompt of migrate down). */
export type Input = NodeJS.ReadableStream & { isTTY?: boolean }

export interface Io {
  stdout: Output
  stderr: Output
  stdin: Input
  env: NodeJS.ProcessEnv
  /** Set by a command that answered but must not exit 0 (check found errors, a broken audit trail). */
  exitCode?: number
  /** The database the command opened, as its output names it. */
  opened?: string
}

const current = new AsyncLocalStorage<Io>()

/** A fresh context on this process's streams and environment. */
export function processIo (): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }
}

/** The running command's context; outside one, a fresh one on the process (nothing set on it is kept). */
export function io (): Io {
  return current.getStore() ?? processIo()
}

/** Whether a command's context is active. */
export const inCommand = (): boolean => current.getStore() !== undefined

/** Runs `work` with `context` as what `io()` returns, in it and in everything it starts. */
export function withIo<T> (context: Io, work: () => T): T {
  return current.run(context, work)
}
