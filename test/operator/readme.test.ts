/**
 * The README runs as written (issue 13, item 5). Every TypeScript and TOML block of README.md and
 * docs/getting-started.md names its file in examples/readme/ (typechecked and linted with the
 * rest) and is that file, character for character. The blocks themselves, extracted from the
 * Markdown, are then run as a reader would, in a CommonJS project as `npm init -y` makes one until
 * the page's `npm pkg set` line turns it ESM: keys from `continuum-proxy keygen`, the Express, Koa
 * and Fastify servers in front of the demo upstream, the OpenAI SDK client against each, the
 * key-agreement pair with the fingerprint keygen printed (and `fingerprint <url>` agreeing), and
 * `continuum-proxy serve` on the README's continuum.toml. A server started without its key stops
 * with the coded error naming the option. Every doc is linked from the README, every link points
 * at a file, and neither the runs nor `npm install` (what `./dev start` does first) change the
 * work tree.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemoUpstream } from '../../examples/demo-upstream'
import { cliCommand, snippetTsconfig, tsxCommand as tsx } from '../support/package-process'

const run = promisify(execFile)
const root = new URL('../..', import.meta.url).pathname
const DOCUMENTS = ['README.md', 'docs/getting-started.md', 'docs/router.md']
const GREETING = 'You said: Hello there'

interface Snippet {
  readonly document: string
  readonly file: string
  readonly language: string
  readonly text: string
}

/** The fenced blocks of a Markdown file, each with the `<!-- file: ... -->` line before it. */
function snippetsOf(document: string): Snippet[] {
  const lines = readFileSync(join(root, document), 'utf8').split('\n')
  const snippets: Snippet[] = []
  for (let index = 0; index < lines.length; index++) {
    const fence = /^```(\w*)/.exec(lines[index]!)
    if (fence === null) continue
    const end = lines.indexOf('```', index + 1)
    const label = /^<!-- file: (\S+) -->$/.exec(lines[index - 1] ?? '')
    snippets.push({
      document,
      file: label?.[1] ?? '',
      language: fence[1]!,
      text: `${lines.slice(index + 1, end).join('\n')}\n`,
    })
    index = end
  }
  return snippets
}

const snippets = DOCUMENTS.flatMap(snippetsOf)
const runnable = snippets.filter((snippet) => snippet.language === 'ts' || snippet.language === 'toml')

/** The block of `file` as the README shows it (the first one; the test checks they agree). */
function block(file: string): string {
  const found = runnable.find((snippet) => snippet.file === `examples/readme/${file}`)
  if (found === undefined) throw new Error(`no block for examples/readme/${file}`)
  return found.text
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function gitStatus(): Promise<string> {
  return (await run('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root })).stdout
}

let folder: string
let demo: { url: string; server: Server }
let statusBefore: string
const children: ChildProcess[] = []

beforeAll(async () => {
  statusBefore = await gitStatus()
  // Inside the repository (temp/ is ignored) so that `continuum-proxy`, `express` and `openai`
  // resolve as they do in a project that installed them.
  await mkdir(join(root, 'temp'), { recursive: true })
  folder = await mkdtemp(join(root, 'temp', 'readme-'))
  for (const snippet of runnable) {
    const path = join(folder, snippet.file.replace('examples/readme/', ''))
    await writeFile(path, snippet.text)
  }
  // On a fresh build the snippets import the package through its exports (dist/), as in a
  // project that installed it; see test/support/package-process.ts.
  const tsconfig = snippetTsconfig()
  if (tsconfig !== undefined) await writeFile(join(folder, 'tsconfig.json'), tsconfig)
  // A project as `npm init -y` makes it (CommonJS), then the getting-started page's `npm pkg`
  // lines: the snippets use top-level await, which tsx refuses to compile as CommonJS. The
  // package is installed in it as a link to this work tree.
  await writeFile(join(folder, 'package.json'), `${JSON.stringify({ name: 'app', type: 'commonjs' })}\n`)
  await mkdir(join(folder, 'node_modules'))
  await symlink(root, join(folder, 'node_modules', 'continuum-proxy'), 'dir')
  for (const line of snippets
    .filter((snippet) => snippet.language === 'sh')
    .flatMap(({ text }) => text.split('\n'))) {
    const command = /^npm (pkg set \S+)/.exec(line)?.[1]
    if (command !== undefined) await run('npm', command.split(' '), { cwd: folder })
  }
  demo = await startDemoUpstream()
})
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  demo.server.closeAllConnections()
  await new Promise((resolve) => demo.server.close(resolve))
  await rm(folder, { recursive: true, force: true })
})

/** Runs the CLI in the snippets' folder, as `npx continuum-proxy ...` would. */
async function cli(...args: string[]): Promise<string> {
  return (await run(...cliCommand(...args), { cwd: folder })).stdout
}

/** Starts a server (`[binary, args]`) and resolves once `url` answers; rejects with its output if it exits. */
async function startServer(
  command: [binary: string, args: string[]],
  env: Record<string, string>,
  url: string,
): Promise<ChildProcess> {
  const child = spawn(...command, { cwd: folder, env: { ...process.env, ...env }, stdio: 'pipe' })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${command[1].join(' ')} exited (${child.exitCode}): ${output}`)
    const answer = await fetch(url).catch(() => undefined)
    if (answer !== undefined) {
      await answer.body?.cancel()
      return Object.assign(child, { output: () => output })
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

async function runClient(file: string, env: Record<string, string>): Promise<string> {
  const { stdout } = await run(...tsx(file), { cwd: folder, env: { ...process.env, ...env } })
  return stdout
}

describe('the README and the getting-started page', () => {
  it('label every TypeScript and TOML block with its file in examples/readme/, and are those files', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(8)
    for (const snippet of runnable) {
      expect(snippet.file, `a ${snippet.language} block of ${snippet.document}`).toMatch(
        /^examples\/readme\//,
      )
      expect(snippet.text, `${snippet.document}: ${snippet.file}`).toBe(
        readFileSync(join(root, snippet.file), 'utf8'),
      )
    }
    const shown = new Set(runnable.map((snippet) => snippet.file))
    for (const file of readdirSync(join(root, 'examples/readme')))
      expect(shown, `examples/readme/${file} is in no document`).toContain(`examples/readme/${file}`)
  })

  it('link every doc from the README, and every link and repository path they name is a file', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    for (const doc of readdirSync(join(root, 'docs')))
      expect(readme, `README links docs/${doc}`).toContain(`](docs/${doc})`)
    for (const document of [...DOCUMENTS, ...readdirSync(join(root, 'docs')).map((doc) => `docs/${doc}`)]) {
      const text = readFileSync(join(root, document), 'utf8')
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        expect(existsSync(join(root, dirname(document), target!)), `${document} links ${target}`).toBe(true)
      }
      // A repository path named in code spans (`src/router/...`) is a file too, not a stale name.
      for (const [, path] of text.matchAll(
        /`((?:src|adapters|middleware|entries|cli|clients|native|examples|test|scripts|bench|docs)\/[\w./-]+)`/g,
      ))
        expect(existsSync(join(root, path!)), `${document} names ${path}`).toBe(true)
    }
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toContain('Apache License')
  })
})

describe('the README run as written, against the demo upstream', () => {
  let keys: Record<string, string>
  beforeAll(async () => {
    // `npx continuum-proxy keygen field --id k1` prints the two environment lines the snippets read.
    const printed = await cli('keygen', 'field', '--id', 'k1')
    keys = Object.fromEntries(
      printed
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    )
    expect(Object.keys(keys)).toEqual(['CONTINUUM_KEY_ID', 'CONTINUUM_KEY'])
    expect(keys.CONTINUUM_KEY_ID).toBe('k1')
  })

  for (const [file, base] of [
    ['express-server.ts', '/v1'],
    ['koa-server.ts', '/v1'],
    ['fastify-server.ts', '/llm/v1'],
  ] as const) {
    it(`${file} serves the client snippet, encrypted only`, async () => {
      const port = await freePort()
      const server = await startServer(
        tsx(file),
        { ...keys, CONTINUUM_UPSTREAM: demo.url, PORT: String(port) },
        `http://127.0.0.1:${port}/`,
      )
      try {
        const url = `http://127.0.0.1:${port}${base}`
        expect(await runClient('client.ts', { ...keys, CONTINUUM_URL: url })).toContain(GREETING)
        // A plain request is refused: with keys, encryption is required.
        const plain = await fetch(`${url}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'Hello there' }] }),
        })
        expect(plain.status).toBeGreaterThanOrEqual(400)
        expect(plain.status).toBeLessThan(500)
        expect(((await plain.json()) as { error: { code: string } }).error.code).toMatch(/^CONTINUUM_/)
        if (file === 'express-server.ts') {
          const health = await fetch(`http://127.0.0.1:${port}/health`)
          expect(await health.json()).toEqual({ ok: true })
        }
      } finally {
        await stop(server)
      }
    })
  }

  it('express-server.ts without CONTINUUM_KEY stops at start, naming the option and the fix', async () => {
    const failed = await run(...tsx('express-server.ts'), {
      cwd: folder,
      env: {
        ...process.env,
        CONTINUUM_KEY: '',
        CONTINUUM_UPSTREAM: demo.url,
        PORT: String(await freePort()),
      },
    }).catch((error: { code: number; stderr: string }) => error)
    expect(failed).toMatchObject({ code: 1 })
    const { stderr } = failed as { stderr: string }
    expect(stderr).toContain('CONTINUUM_INVALID_OPTIONS')
    expect(stderr).toContain('keys[0].key')
    expect(stderr).toContain('keygen field')
  })

  it('the key-agreement pair works with the fingerprint keygen printed', async () => {
    const printed = await cli('keygen', 'agreement', '--out', 'agreement.pem')
    const fingerprint = /fingerprint: (sha256:[0-9a-f]{64})/.exec(printed)?.[1]
    expect(fingerprint).toBeDefined()
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const server = await startServer(
      tsx('agreement-server.ts'),
      { CONTINUUM_UPSTREAM: demo.url, PORT: String(port) },
      `${url}/`,
    )
    try {
      expect((await cli('fingerprint', url)).trim()).toContain(fingerprint!)
      const answer = await runClient('agreement-client.ts', {
        CONTINUUM_FINGERPRINT: fingerprint!,
        CONTINUUM_URL: `${url}/v1`,
      })
      expect(answer).toContain(GREETING)
      const other = `sha256:${'0'.repeat(64)}`
      const refused = await runClient('agreement-client.ts', {
        CONTINUUM_FINGERPRINT: other,
        CONTINUUM_URL: `${url}/v1`,
      }).catch((error: { stderr: string }) => error.stderr)
      expect(refused).toContain('CONTINUUM_SERVER_KEY_MISMATCH')
    } finally {
      await stop(server)
    }
  })

  it("continuum-proxy serve runs the README's continuum.toml, with its access log", async () => {
    const port = await freePort()
    const config = block('continuum.toml')
      .replace('http://127.0.0.1:8000', demo.url)
      .replace('127.0.0.1:8080', `127.0.0.1:${port}`)
    expect(config).not.toBe(block('continuum.toml'))
    await writeFile(join(folder, 'serve.toml'), config)
    // `npx continuum-proxy serve`: the built CLI when it is fresh (test/support/package-process.ts).
    const server = (await startServer(
      cliCommand('serve', '--config', 'serve.toml'),
      { CONTINUUM_KEY: keys.CONTINUUM_KEY! },
      `http://127.0.0.1:${port}/v1/models`,
    )) as ChildProcess & { output(): string }
    try {
      const answer = await runClient('client.ts', { ...keys, CONTINUUM_URL: `http://127.0.0.1:${port}/v1` })
      expect(answer).toContain(GREETING)
    } finally {
      await stop(server)
    }
    const lines = server
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.find((line) => line.msg === 'continuum-proxy ready')).toMatchObject({
      mode: 'proxy',
      keyIds: 'k1',
      accessLog: true,
    })
    expect(lines.find((line) => line.route === 'openai.chat-completions')).toMatchObject({
      msg: 'request',
      method: 'POST',
      status: 200,
      keyId: 'k1',
    })
    expect(server.output()).not.toContain('Hello there')
    expect(server.output()).not.toContain(keys.CONTINUUM_KEY!)
  })
})

describe('the work tree after ./dev start and these runs', () => {
  it('npm install keeps the committed package-lock.json as it is', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'continuum-lock-'))
    try {
      for (const file of ['package.json', 'package-lock.json'])
        await copyFile(join(root, file), join(scratch, file))
      // What `./dev start` runs first, minus the download: the lockfile it would write.
      await run(
        'npm',
        ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
        { cwd: scratch },
      )
      expect(readFileSync(join(scratch, 'package-lock.json'), 'utf8')).toBe(
        readFileSync(join(root, 'package-lock.json'), 'utf8'),
      )
    } finally {
      await rm(scratch, { recursive: true, force: true })
    }
  }, 120_000)

  it('is unchanged: what ./dev start and the snippets write is ignored', async () => {
    const { stdout } = await run('git', ['check-ignore', '.tools', 'node_modules', 'temp'], { cwd: root })
    expect(stdout.trim().split('\n')).toEqual(['.tools', 'node_modules', 'temp'])
    expect(await gitStatus()).toBe(statusBefore)
  })
})
