/**
 * Where the Deno and Bun binaries of test/runtimes are: `CONTINUUM_DENO` / `CONTINUUM_BUN` when
 * set, else the official builds that scripts/ensure-runtimes.sh installs from npm into
 * .tools/runtimes for `./dev test`. A missing binary fails the test with the command that
 * installs it; a browser or edge runtime the docs promise is never skipped silently.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
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

/** How to run a bundled script in a runtime, with the least it needs. */
export interface RuntimeCommand {
  readonly binary: string
  readonly args: string[]
  readonly env: NodeJS.ProcessEnv
}

/**
 * The command that runs `script` in `runtime`. Deno: no permission but loopback network when
 * `network` is set, no prompts, packages from the project's node_modules, its cache under
 * `folder`. Bun: never installs a package on its own.
 */
export function runtimeCommand(
  runtime: RuntimeName,
  script: string,
  folder: string,
  options: { network: boolean },
): RuntimeCommand {
  const args =
    runtime === 'deno'
      ? [
          'run',
          ...(options.network ? ['--allow-net=127.0.0.1'] : []),
          '--no-prompt',
          '--no-config',
          '--node-modules-dir=manual',
          script,
        ]
      : ['--no-install', script]
  return {
    binary: runtimeBinary(runtime),
    args,
    env: { ...process.env, DENO_DIR: join(folder, 'deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  }
}
