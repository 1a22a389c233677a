import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
const tsx = `${root}node_modules/.bin/tsx`
let gateway: ChildProcess | undefined

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

afterAll(() => {
  gateway?.kill()
})

describe('the README example (npm start, then examples/client.ts)', () => {
  it('serves the demo upstream and answers the printed client commands', async () => {
    const port = await freePort()
    gateway = spawn(tsx, ['examples/gateway.ts'], { cwd: root, env: { ...process.env, PORT: String(port) } })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      gateway!.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('CONTINUUM_FINGERPRINT=')) resolve()
      })
      gateway!.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)))
    })
    expect(output).toContain('DEMO')
    const shared = /CONTINUUM_KEY_ID=(\S+) CONTINUUM_KEY=(\S+)/.exec(output)!
    const fingerprint = /CONTINUUM_FINGERPRINT=(\S+)/.exec(output)![1]!
    const url = `http://127.0.0.1:${port}/v1`
    const withKey = await run(tsx, ['examples/client.ts', 'Hello secret'], {
      cwd: root,
      env: { ...process.env, CONTINUUM_URL: url, CONTINUUM_KEY_ID: shared[1], CONTINUUM_KEY: shared[2] },
    })
    expect(withKey.stdout).toContain('answer:   You said: Hello secret')
    expect(withKey.stdout).toContain('streamed: You said: Hello secret')
    const agreed = await run(tsx, ['examples/client.ts', 'Hello agreement'], {
      cwd: root,
      env: { ...process.env, CONTINUUM_URL: url, CONTINUUM_FINGERPRINT: fingerprint },
    })
    expect(agreed.stdout).toContain('answer:   You said: Hello agreement')
  }, 60_000)
})
