#!/usr/bin/env node
/**
 * The `continuum-proxy` executable (built to dist/cli.js). All logic lives in run-cli.ts so tests
 * can drive it in-process; this file only binds it to the process. No top-level await: the CLI is
 * also built as CommonJS.
 */
import { runCli } from './run-cli'

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => {
    process.exitCode = code
  },
  () => {
    process.stderr.write('error: unexpected failure\n')
    process.exitCode = 70
  },
)
