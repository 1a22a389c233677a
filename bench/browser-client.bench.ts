/**
 * The client's own cost per exchange (issue: Node and browser <= 60 µs a request), measured in the
 * same run on Node and in headless Chromium (Debian's chromium through playwright-core):
 * sealing a 2 KB chat request and verifying and decrypting its 0.7 KB answer, and opening a
 * 1,000-chunk SSE stream. Node runs both of the client's backends: node:crypto (what it picks on
 * Node) and WebCrypto (what browsers and workers run); Chromium runs WebCrypto; Deno and Bun, when
 * installed (scripts/ensure-runtimes.sh), what their clients pick: node:crypto.
 * The answers are sealed in advance by the server's code (src/cipher) under a fixed nonce.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { builtinAdapters } from '../adapters/index'
import {
  type CipherContext,
  createFieldKey,
  encryptFields,
  encryptRequestMessage,
  endMarker,
  openEvent,
  openResponse,
  sealEvent,
  sealResponse,
} from '../src/cipher'
import { defaultBackend, webCryptoBackend } from '../src/client/web-crypto/index'
import { AdapterRegistry } from '../src/protocol/registry'
import { formatSse } from '../src/streams/sse'
import { bundleForBrowser } from '../test/browser/bundle'
import { launchChromium, openTestPage } from '../test/browser/chromium'
import { type RuntimeCommand, type RuntimeName, runtimeCommand } from '../test/runtimes/runtime-binaries'
import { fixed, median, quantile } from './stats'
import { CHAT_BODY } from './support/chat-load'
import { type ClientCostFixture, type ClientCostSamples, measureClientCost } from './support/client-cost'

const CHUNKS = 1000
const REQUESTS = 2500
const STREAMS = 8
const ROUNDS = 4
/** `BENCH_PROFILE=<dir>` writes a CPU profile of one more Chromium round (CDP) into that folder. */
const profile = process.env.BENCH_PROFILE

function fixture(): ClientCostFixture {
  const keyBytes = randomBytes(32)
  const key = createFieldKey('bench', keyBytes)
  const nonce = randomBytes(16).toString('base64url')
  const response: CipherContext = { key, nonce, direction: 'response' }
  const route = new AdapterRegistry(builtinAdapters()).lookupSuffix('POST', '/v1/chat/completions')!.route
  const answer = sealResponse(
    route.responseTree,
    {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1,
      model: 'bench',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'x'.repeat(512) }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 500, completion_tokens: 128, total_tokens: 628 },
    },
    response,
    200,
  )
  let stream = ''
  for (let sequence = 0; sequence < CHUNKS; sequence++) {
    const chunk = {
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: 'bench',
      choices: [{ index: 0, delta: { content: 'token ' }, finish_reason: null }],
    }
    stream += formatSse({
      data: JSON.stringify(sealEvent(route.stream!.tree, chunk, response, sequence, '')),
    })
  }
  stream += formatSse({ event: 'continuum.end', data: JSON.stringify(endMarker(response, CHUNKS)) })
  stream += formatSse({ data: '[DONE]' })
  // The request is sealed by the client under test; encrypting it here only checks the tree takes it.
  encryptFields(route.requestTree, CHAT_BODY, { ...response, direction: 'request' }, 0)
  return {
    keyHex: keyBytes.toString('hex'),
    nonce,
    request: CHAT_BODY,
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': 'OpenAI/JS 7.57.0',
      authorization: 'Bearer sk-bench',
      'x-stainless-lang': 'js',
      'x-stainless-retry-count': '0',
    },
    answer: { text: answer.text, seal: answer.seal },
    stream,
    chunks: CHUNKS,
  }
}

/**
 * The same work on the server's synchronous cipher (src/cipher, node:crypto), in the same run: a
 * reference that moves with the machine's load, so the ratios stay meaningful on a shared host.
 */
function serverReference(data: ClientCostFixture): ClientCostSamples {
  const key = createFieldKey('bench', Buffer.from(data.keyHex, 'hex'))
  const request: CipherContext = { key, nonce: data.nonce, direction: 'request' }
  const response: CipherContext = { ...request, direction: 'response' }
  const registry = new AdapterRegistry(builtinAdapters())
  const events = data.stream
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: {'))
    .map((frame) => JSON.parse(frame.slice(6)) as Record<string, unknown>)
  const once = () => {
    const match = registry.lookupSuffix('POST', '/v1/chat/completions')!
    encryptRequestMessage({
      tree: match.route.requestTree,
      body: data.request,
      context: request,
      method: 'POST',
      routePath: match.routePath,
      timestamp: '1700000000000',
      headers: data.headers,
      keyHeaders: { 'x-continuum-key-id': 'bench' },
    })
    const { text, seal } = data.answer
    openResponse(match.route.responseTree, JSON.parse(text), response, 200, seal, text)
  }
  const tree = registry.lookupSuffix('POST', '/v1/chat/completions')!.route.stream!.tree
  const samples: ClientCostSamples = { request: [], stream: [] }
  for (let warm = 0; warm < 400; warm++) once()
  for (let index = 0; index < REQUESTS / 25; index++) {
    const started = performance.now()
    for (let call = 0; call < 25; call++) once()
    samples.request.push(((performance.now() - started) * 1000) / 25)
  }
  for (let index = 0; index < STREAMS; index++) {
    const started = performance.now()
    for (const [sequence, event] of events.entries())
      JSON.stringify(openEvent(tree, event, response, sequence, ''))
    samples.stream.push((performance.now() - started) * 1000)
  }
  return samples
}

/**
 * The same measurement in Deno or Bun (their clients pick node:crypto), one process a round; none
 * when the binary is not installed (scripts/ensure-runtimes.sh installs both).
 */
async function serverRuntimes(
  data: ClientCostFixture,
  folder: string,
): Promise<{ runtime: string; measure: Measure }[]> {
  const script = join(folder, 'client-cost-runtime.mjs')
  writeFileSync(script, (await bundleForBrowser('bench/support/client-cost-runtime.ts')).code)
  const input = JSON.stringify({ fixture: data, requests: REQUESTS, streams: STREAMS })
  const rows: { runtime: string; measure: Measure }[] = []
  for (const name of ['deno', 'bun'] as RuntimeName[]) {
    let command: RuntimeCommand
    try {
      command = runtimeCommand(name, script, folder, { network: false })
    } catch {
      console.log(`(${name} is not installed: bash scripts/ensure-runtimes.sh adds its row)`)
      continue
    }
    const { binary, args, env } = command
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim()
    const run = () =>
      JSON.parse(execFileSync(binary, args, { input, encoding: 'utf8', env, maxBuffer: 1 << 24 })) as {
        backend: string
      } & ClientCostSamples
    const backend = run().backend
    rows.push({
      runtime: `${name === 'deno' ? 'Deno' : 'Bun'} ${version.replace(/^\D+/, '')}, ${backend === 'node' ? 'node:crypto (its default)' : backend}`,
      measure: async () => run(),
    })
  }
  return rows
}

/** Per runtime: the median of each round, and every sample. */
interface Row {
  runtime: string
  requestMedians: number[]
  streamMedians: number[]
  all: ClientCostSamples
}

type Measure = () => Promise<ClientCostSamples>

/**
 * Rounds of every runtime in turn; each figure is the lowest of its round medians (the least
 * disturbed round on a shared machine), p99 over all samples.
 */
async function rounds(measures: { runtime: string; measure: Measure }[]): Promise<Row[]> {
  const rows: Row[] = measures.map(({ runtime }) => ({
    runtime,
    requestMedians: [],
    streamMedians: [],
    all: { request: [], stream: [] },
  }))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, { measure }] of measures.entries()) {
      const samples = await measure()
      const row = rows[index]!
      row.requestMedians.push(median(samples.request))
      row.streamMedians.push(median(samples.stream))
      row.all.request.push(...samples.request)
      row.all.stream.push(...samples.stream)
    }
  }
  return rows
}

export default async function browserClientBench(): Promise<void> {
  const data = fixture()
  const folder = mkdtempSync(join(tmpdir(), 'continuum-client-cost-'))
  const runtimes = await serverRuntimes(data, folder)
  const bundle = await bundleForBrowser('bench/support/client-cost-page.ts')
  const browser = await launchChromium()
  // Cross-origin isolated: Chromium's timer then resolves 5 µs, not 100 µs.
  const page = await openTestPage(browser, bundle.code, { isolated: true })
  if (!(await page.page.evaluate(() => globalThis.crossOriginIsolated)))
    throw new Error('the bench page is not cross-origin isolated: its timer would be 100 µs coarse')
  const text = JSON.stringify(data)
  const inChromium = () =>
    page.page.evaluate(
      ([fixtureText, requests, streams]) =>
        (
          globalThis as unknown as {
            clientCost: (text: string, requests: number, streams: number) => Promise<ClientCostSamples>
          }
        ).clientCost(fixtureText, requests, streams),
      [text, REQUESTS, STREAMS] as const,
    )
  let rows: Row[]
  try {
    rows = await rounds([
      {
        runtime: `Node ${process.version}, node:crypto (its default)`,
        measure: () => measureClientCost(data, defaultBackend(), REQUESTS, STREAMS),
      },
      {
        runtime: `Node ${process.version}, WebCrypto`,
        measure: () => measureClientCost(data, webCryptoBackend, REQUESTS, STREAMS),
      },
      {
        runtime: `Chromium ${browser.version()} headless, WebCrypto`,
        measure: inChromium,
      },
      ...runtimes,
      {
        runtime: 'reference: the server cipher, sync node:crypto (no SSE parsing)',
        measure: async () => serverReference(data),
      },
    ])
    if (profile !== undefined) {
      const session = await page.page.context().newCDPSession(page.page)
      await session.send('Profiler.enable')
      await session.send('Profiler.setSamplingInterval', { interval: 50 })
      await session.send('Profiler.start')
      await inChromium()
      const { profile: recorded } = await session.send('Profiler.stop')
      writeFileSync(join(profile, 'chromium-client.cpuprofile'), JSON.stringify(recorded))
    }
  } finally {
    await page.close()
    await browser.close()
    rmSync(folder, { recursive: true, force: true })
  }
  const best = (values: number[]) => Math.min(...values)
  const base = best(rows[0]!.requestMedians)
  const baseChunk = best(rows[0]!.streamMedians) / CHUNKS
  console.log(
    '| runtime, backend | request p50 µs | request p99 µs | × Node | stream chunk p50 µs | chunk p99 µs | × Node | whole stream p50 ms |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const row of rows) {
    const request = best(row.requestMedians)
    const stream = best(row.streamMedians)
    const chunk = stream / CHUNKS
    console.log(
      `| ${row.runtime} | ${fixed(request, 1)} | ${fixed(quantile(row.all.request, 0.99), 1)} | ${fixed(request / base, 2)} | ${fixed(chunk, 2)} | ${fixed(quantile(row.all.stream, 0.99) / CHUNKS, 2)} | ${fixed(chunk / baseChunk, 2)} | ${fixed(stream / 1000, 1)} |`,
    )
  }
  console.log(
    `\nrequest: seal a 2 KB chat request and verify and decrypt its 0.7 KB answer (batches of 25); stream: ${CHUNKS} sealed chunks verified, decrypted and re-framed. ${ROUNDS} rounds; lowest round median. Target: <= 60 µs a request.`,
  )
}
