/**
 * The client in Deno and Bun, as docs/browser.md promises, run by the real binaries against the
 * real middleware and the man-in-the-middle relay of the browser tests on loopback, in two
 * builds: the official `openai` SDK and `continuum-proxy/client` bundled for the browser by
 * esbuild (what a web application or an edge worker ships, with no Node builtin in it), and the
 * package as Deno and Bun import it from node_modules (its `import` build, dist/client.js; the
 * client's sources bundled for Node when dist/ is older than them, as test/support/package-process.ts
 * decides). Chat and streaming with a pre-shared
 * key and with pinned key agreement; a tampered answer, a cut stream, a redirect and a swapped
 * server key are refused with their CONTINUUM_* codes; and the shared protocol vectors hold on
 * WebCrypto and on the backend the client picks in that runtime. The binaries are the official
 * builds npm carries, installed by scripts/ensure-runtimes.sh for `./dev test`.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleForBrowser } from '../browser/bundle'
import type { CallOutcome } from '../browser/page-entry'
import { type BrowserServers, startBrowserServers } from '../browser/servers'
import { replyFor } from '../kit/openai-echo'
import { builtPackageIsFresh } from '../support/package-process'
import { type RuntimeName, runtimeCommand } from './runtime-binaries'
import type { PlanStep, VectorsOutcome } from './runtime-entry'

type Build = 'browser bundle' | 'package'

const root = fileURLToPath(new URL('../..', import.meta.url))
let servers: BrowserServers
let folder: string
const scripts = {} as Record<Build, string>

/**
 * A project folder that installed the package: `continuum-proxy` and `openai` in its node_modules
 * (links to this repository and its copy of the SDK), the entry importing both by name.
 */
async function packageProject(): Promise<string> {
  const project = join(folder, 'project')
  mkdirSync(join(project, 'node_modules'), { recursive: true })
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }))
  const fresh = builtPackageIsFresh()
  if (fresh) {
    symlinkSync(root, join(project, 'node_modules', 'continuum-proxy'))
    symlinkSync(join(root, 'node_modules', 'openai'), join(project, 'node_modules', 'openai'))
  }
  const script = join(project, 'client.mjs')
  await build({
    absWorkingDir: root,
    entryPoints: ['test/runtimes/runtime-entry.ts'],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    logLevel: 'silent',
    ...(fresh
      ? { external: ['continuum-proxy/client', 'openai'] }
      : { alias: { 'continuum-proxy/client': './entries/client.ts' } }),
  })
  return script
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'continuum-runtimes-'))
  scripts['browser bundle'] = join(folder, 'browser.mjs')
  writeFileSync(scripts['browser bundle'], (await bundleForBrowser('test/runtimes/runtime-entry.ts')).code)
  scripts.package = await packageProject()
  // No browser origin calls here: the CORS handler never matches.
  servers = await startBrowserServers(() => 'null')
}, 60_000)

afterAll(async () => {
  await servers?.close()
  if (folder !== undefined) rmSync(folder, { recursive: true, force: true })
})

/** Runs the plan in one process of the runtime; one outcome per step, in order. */
function runPlan(runtime: RuntimeName, variant: Build, plan: PlanStep[]): Promise<unknown[]> {
  const { binary, args, env } = runtimeCommand(runtime, scripts[variant], folder, { network: true })
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    let errors = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`${runtime} exited with ${code}: ${errors.slice(0, 2000)}`))
      resolve(
        output
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as unknown),
      )
    })
    child.stdin.end(JSON.stringify(plan))
  })
}

const PROMPTS = {
  relayed: 'relayed secret 51c9',
  stream: 'stream me, runtime',
  agreedChat: 'agreed chat',
  agreedStream: 'agreed stream',
} as const

describe.each([
  ['deno', 'browser bundle'],
  ['deno', 'package'],
  ['bun', 'browser bundle'],
  ['bun', 'package'],
] as const)('continuum-proxy/client in %s (%s), official openai SDK', (runtime, variant) => {
  let outcomes: unknown[]
  let carried: string[]
  let upstreamCalls: { redirect: number }
  const shared = () => ({ keyId: servers.keyId, key: servers.key })
  const pinned = () => ({ agreement: { fingerprint: servers.agreementFingerprint } })

  beforeAll(async () => {
    const vectors = readFileSync(new URL('../fixtures/protocol-vectors.json', import.meta.url), 'utf8')
    const carriedBefore = servers.carried.length
    const plan: PlanStep[] = [
      {
        method: 'chat',
        input: { baseURL: `${servers.relay}/pass/v1`, keys: shared(), prompt: PROMPTS.relayed },
      },
      { method: 'stream', input: { baseURL: `${servers.url}/v1`, keys: shared(), prompt: PROMPTS.stream } },
      { method: 'chat', input: { baseURL: `${servers.url}/v1`, keys: pinned(), prompt: PROMPTS.agreedChat } },
      {
        method: 'stream',
        input: { baseURL: `${servers.url}/v1`, keys: pinned(), prompt: PROMPTS.agreedStream },
      },
      { method: 'chat', input: { baseURL: `${servers.relay}/tamper/v1`, keys: shared(), prompt: 'tamper' } },
      {
        method: 'stream',
        input: { baseURL: `${servers.relay}/truncate/v1`, keys: shared(), prompt: 'cut me' },
      },
      { method: 'vectors', input: vectors },
    ]
    outcomes = await runPlan(runtime, variant, plan)
    carried = servers.carried.slice(carriedBefore)
    // The redirect and the swapped key each run alone, so what reached the upstream and the
    // relay is theirs.
    const before = servers.upstream.requests.length
    outcomes.push(
      ...(await runPlan(runtime, variant, [
        {
          method: 'chat',
          input: {
            baseURL: `${servers.relay}/redirect/v1`,
            keys: shared(),
            prompt: 'redirect me',
            maxRetries: 2,
          },
        },
      ])),
    )
    upstreamCalls = { redirect: servers.upstream.requests.length - before }
  }, 120_000)

  const outcome = (index: number) => outcomes[index] as CallOutcome

  it('chats with a pre-shared key; only ciphertext crosses the wire', () => {
    expect(outcome(0)).toEqual({ ok: true, text: replyFor(PROMPTS.relayed), model: 'gpt-4o-mini' })
    expect(carried[0]).toContain('cp2.k-browser.')
    expect(carried[0]).not.toContain(PROMPTS.relayed)
    expect(servers.upstream.requests.some((request) => request.body.includes(PROMPTS.relayed))).toBe(true)
  })

  it('streams with a pre-shared key', () => {
    const streamed = outcome(1)
    expect(streamed.ok && streamed.text).toBe(replyFor(PROMPTS.stream))
    expect(streamed.ok && streamed.chunks).toBeGreaterThan(1)
  })

  it('chats and streams with X25519 key agreement pinned by fingerprint', () => {
    expect(outcome(2)).toMatchObject({ ok: true, text: replyFor(PROMPTS.agreedChat) })
    expect(outcome(3)).toMatchObject({ ok: true, text: replyFor(PROMPTS.agreedStream) })
  })

  it('refuses an answer a relay tampered with, and a stream it cut before its end marker', () => {
    expect(outcome(4)).toMatchObject({ ok: false, code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
    expect(outcome(5)).toMatchObject({ ok: false, phase: 'stream', code: 'CONTINUUM_STREAM_TRUNCATED' })
  })

  it('reproduces the shared protocol vectors on WebCrypto and on the backend it picks', () => {
    const report = outcomes[6] as VectorsOutcome
    // docs/browser.md: where the runtime offers process.getBuiltinModule('node:crypto'), as Deno
    // and Bun do, the client runs its per-message cipher synchronously on it.
    expect(report.picked).toBe('node')
    expect(report.reports.map((run) => run.backend)).toEqual(['webcrypto', 'node'])
    for (const run of report.reports) {
      expect(run.failures).toEqual([])
      expect(run.checks).toBeGreaterThan(700)
    }
  })

  it('answers a redirect as unauthenticated: the SDK does not run the request again', () => {
    expect(outcome(7)).toMatchObject({ ok: false, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect(upstreamCalls.redirect).toBe(1)
  })

  it('refuses a swapped server key when the fingerprint is pinned, and sends nothing', async () => {
    const before = servers.carried.length
    const [swapped] = await runPlan(runtime, variant, [
      { method: 'chat', input: { baseURL: `${servers.relay}/swap/v1`, keys: pinned(), prompt: 'swap' } },
    ])
    expect(swapped).toMatchObject({ ok: false, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    expect(servers.carried.length).toBe(before)
  })
})
