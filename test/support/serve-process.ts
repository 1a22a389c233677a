/**
 * `continuum-proxy serve` started in a child process on a configuration file, for the operator
 * tests that only need to know whether it listens (and where) or how it exited: the address from
 * its `listening` line, or its exit code and standard error. Children are killed by the caller's
 * `afterAll` through {@link killServed}.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { cliCommand } from './package-process'

const root = new URL('../..', import.meta.url).pathname
const started: ChildProcess[] = []

/** A started `continuum-proxy serve`: it either listens or exits. */
export interface ServedProcess {
  readonly child: ChildProcess
  /** Resolves the address once it listens; rejects with its stderr when it exits first. */
  readonly listening: Promise<string>
  readonly exited: Promise<{ code: number | null; stderr: string }>
}

/** Starts `continuum-proxy serve --config <configPath>`. */
export function startServe(configPath: string): ServedProcess {
  const child = spawn(...cliCommand('serve', '--config', configPath), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  )
  const listening = new Promise<string>((resolve, reject) => {
    let text = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      const lines = text.split('\n')
      text = lines.pop()!
      for (const line of lines) {
        if (line.trim() === '') continue
        const parsed = JSON.parse(line) as { msg?: string; address?: string }
        if (parsed.msg === 'listening' && parsed.address !== undefined) resolve(parsed.address)
      }
    })
    void exited.then(({ code }) => reject(new Error(`serve exited (${code}): ${stderr}`)))
  })
  listening.catch(() => {})
  return { child, listening, exited }
}

/** Kills every server still running; for `afterAll`. */
export function killServed(): void {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL')
}
