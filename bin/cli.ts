#!/usr/bin/env node
// The executable: the tool (main.ts) on this process's streams, its exit code the process's.
import { EXIT } from './commands/context.js'
import { processIo, withIo } from './commands/io.js'
import { main } from './main.js'

const command = processIo()

// A reader that stops early (export | head) closes the pipe: that is not a failure to report.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(command.exitCode ?? EXIT.OK)
})

process.exitCode = await withIo(command, async () => await main(process.argv))
