import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { closedPort } from '../kit/server'
import { builtPackageEnvironment } from '../support/package-process'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
const tsx = `${root}node_modules/.bin/tsx`
let gateway: ChildProcess | undefined
// The gateway and the clients load the built package when it is fresh, as in a project that
// installed it (test/support/package-process.ts); the commands stay as printed.
const scratch = mkdtempSync(join(tmpdir(), 'continuum-example-'))
const environment = { ...process.env, ...builtPackageEnvironment(scratch) }

afterAll(() => {
  gateway?.kill()
  rmSync(scratch, { recursive: true, force: true })
})

describe('the README example (npm start, then examples/client.ts)', () => {
  it('serves the demo upstream and answers the printed client commands', async () => {
    const port = await closedPort()
    gateway = spawn(tsx, ['examples/gateway.ts'], { cwd: root, env: { ...environment, PORT: String(port) } })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      gateway!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('CONTINUUM_FINGERPRINT=')) resolve()
      })
      gateway!.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)))
    })
    expect(output).toContain('DEMO')
    // Run the two printed commands exactly as a reader would paste them.
    const commands = output
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('CONTINUUM_URL='))
    expect(commands).toHaveLength(2)
    const [withKey, agreed] = await Promise.all(
      commands.map((command) =>
        run('bash', ['-c', command.replace('Hello there', 'Hello secret')], { cwd: root, env: environment }),
      ),
    )
    expect(withKey!.stdout).toContain('answer:   You said: Hello secret')
    expect(withKey!.stdout).toContain('streamed: You said: Hello secret')
    expect(agreed!.stdout).toContain('answer:   You said: Hello secret')
    expect(commands[1]).toContain('CONTINUUM_FINGERPRINT=sha256:')
  }, 60_000)
})
