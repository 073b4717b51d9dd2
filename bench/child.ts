// What the benchmarks that serve from a child process share: asking the
// child for something over IPC, and the median of a case's runs.
import type { ChildProcess } from 'node:child_process'

/** Sends `{ kind }` to the child and resolves with its first answer of that kind. */
export function ask<T> (server: { child: ChildProcess }, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const listener = (m: { kind: string } & T) => {
      if (m.kind !== kind) return
      server.child.off('message', listener)
      resolve(m)
    }
    server.child.on('message', listener)
    server.child.send({ kind })
  })
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
