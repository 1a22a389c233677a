/**
 * `continuum-proxy serve` as a real child process against a client that never finishes its
 * request: the headers arrive, then a chunked body trickles in forever. The proxy answers
 * `/livez` (or `/metrics`, the agreement key...) without reading the body, with a 200, so the
 * bindings keep the connection; only the server's request timeout can end it. Without one, each
 * such client holds a socket for good, and a few thousand of them exhaust the process's file
 * descriptors (upstream connections and files included).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliCommand } from '../support/package-process'

const root = new URL('../..', import.meta.url).pathname
let folder: string
let child: ChildProcess | undefined

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-serve-timeout-'))
})

afterAll(async () => {
  child?.kill('SIGKILL')
  await rm(folder, { recursive: true, force: true })
})

/** Starts the server on a free port; resolves its `host:port`. */
async function serve(config: string): Promise<{ host: string; port: number }> {
  const path = join(folder, 'serve.toml')
  await writeFile(path, config)
  const started = spawn(...cliCommand('serve', '--config', path), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child = started
  let errors = ''
  started.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errors += chunk
  })
  const address = await new Promise<string>((resolve, reject) => {
    let text = ''
    started.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue
        const parsed = JSON.parse(line) as { msg?: string; address?: string }
        if (parsed.msg === 'listening' && parsed.address !== undefined) resolve(parsed.address)
      }
    })
    started.once('exit', (code) => reject(new Error(`serve exited (${code}): ${errors}`)))
  })
  const url = new URL(address)
  return { host: url.hostname, port: Number(url.port) }
}

describe('a request whose body never ends', () => {
  it('is cut by server.request_timeout_ms, though its answer was a 200', async () => {
    const { host, port } = await serve(
      [
        '[server]',
        'listen = "127.0.0.1:0"',
        'request_timeout_ms = 1000',
        'headers_timeout_ms = 1000',
        '[upstream]',
        'url = "http://127.0.0.1:9"',
        '[proxy]',
        'body_timeout_ms = 1000',
        '[telemetry]',
        'tracing = false',
        '',
      ].join('\n'),
    )
    const socket = connect(port, host)
    let received = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk
    })
    socket.on('error', () => undefined)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write('GET /livez HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n')
    // Keeps sending: the idle timeouts never fire, only the bound on the whole request can.
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write('1\r\na\r\n')
    }, 50)
    try {
      await closed
    } finally {
      clearInterval(trickle)
    }
    expect(received).toMatch(/^HTTP\/1\.1 200 /)
  }, 60_000)

  it('refuses a request timeout below the header and body timeouts, which it would cut first', async () => {
    const { runCli } = await import('../../cli/run-cli')
    const path = join(folder, 'short.toml')
    await writeFile(path, '[server]\nrequest_timeout_ms = 1000\n[upstream]\nurl = "http://127.0.0.1:9"\n')
    const errors: string[] = []
    const code = await runCli(['serve', '--config', path, '--check'], {
      stdout: () => undefined,
      stderr: (text) => errors.push(text),
    })
    expect(code).toBe(2)
    expect(errors.join('\n')).toContain(
      'CONTINUUM_CONFIG_INVALID: server.request_timeout_ms: must be at least server.headers_timeout_ms and proxy.body_timeout_ms (60000)',
    )
  })
})
