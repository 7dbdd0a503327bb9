#!/usr/bin/env node
// `bearer-guard`: see cli.ts. The exit code is set, not forced, so piped output is flushed.
import { main } from './cli.js'

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
})
