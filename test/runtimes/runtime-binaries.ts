/**
 * Where the Deno and Bun binaries of test/runtimes are: `CONTINUUM_DENO` / `CONTINUUM_BUN` when
 * set, else the official builds that scripts/ensure-runtimes.sh installs from npm into
 * .tools/runtimes for `./dev test`. A missing binary fails the test with the command that
 * installs it; a browser or edge runtime the docs promise is never skipped silently.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type RuntimeName = 'deno' | 'bun'

const tools = fileURLToPath(new URL('../../.tools/runtimes/node_modules/', import.meta.url))

const INSTALLED: Record<RuntimeName, string> = {
  deno: `${tools}@deno/linux-x64-glibc/deno`,
  bun: `${tools}@oven/bun-linux-x64/bin/bun`,
}

/** The path of a runtime's binary; throws, naming the fix, when there is none. */
export function runtimeBinary(runtime: RuntimeName): string {
  const path = process.env[`CONTINUUM_${runtime.toUpperCase()}`] ?? INSTALLED[runtime]
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found: run \`bash scripts/ensure-runtimes.sh\` (./dev test does it), or set CONTINUUM_${runtime.toUpperCase()} to a ${runtime} binary`,
    )
  }
  return path
}
