/**
 * The client in a real headless Chromium (Debian's chromium, driven by playwright-core): the
 * official `openai` SDK and `continuum-proxy/client` bundled for the browser by esbuild, the page
 * on its own loopback origin, calling the real middleware cross-origin. Chat and streaming with a
 * pre-shared key and with pinned key agreement; and what a man in the middle tries, seen from
 * the browser: a tampered answer, a truncated stream and a swapped server key are all refused
 * with their CONTINUUM_* codes. The shared protocol vectors run in the page too.
 */
import { readFileSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { replyFor } from '../kit/openai-echo'
import { bundleForBrowser } from './bundle'
import { launchChromium, openTestPage, type TestPage } from './chromium'
import type { CallInput, CallOutcome, PageApi } from './page-entry'
import { type BrowserServers, startBrowserServers } from './servers'

let browser: Browser
let page: TestPage
let servers: BrowserServers
let bundleInputs: string[]

beforeAll(async () => {
  const bundle = await bundleForBrowser('test/browser/page-entry.ts')
  bundleInputs = Object.keys(Object.values(bundle.metafile.outputs)[0]!.inputs)
  servers = await startBrowserServers(() => page.origin)
  browser = await launchChromium()
  page = await openTestPage(browser, bundle.code)
}, 120_000)

afterAll(async () => {
  await page?.close()
  await browser?.close()
  await servers?.close()
})

function call(method: 'chat' | 'stream', input: CallInput): Promise<CallOutcome> {
  return page.page.evaluate(
    ([name, args]) =>
      (globalThis as unknown as { continuumTest: PageApi }).continuumTest[name as 'chat' | 'stream'](args),
    [method, input] as const,
  )
}

const shared = () => ({ keyId: servers.keyId, key: servers.key })
const pinned = () => ({ agreement: { fingerprint: servers.agreementFingerprint } })

describe('continuum-proxy/client in headless Chromium, official openai SDK', () => {
  it('bundles the official SDK and the client for the browser without a Node builtin', () => {
    expect(bundleInputs.some((input) => input.includes('node_modules/openai/'))).toBe(true)
    expect(bundleInputs).toContain('src/client/web-crypto/backend.ts')
    expect(bundleInputs.some((input) => input.includes('undici'))).toBe(false)
  })

  it('runs on WebCrypto in the page, with no Node globals', async () => {
    const globals = await page.page.evaluate(() => ({
      subtle: typeof globalThis.crypto?.subtle?.encrypt,
      process: typeof (globalThis as { process?: unknown }).process,
      buffer: typeof (globalThis as { Buffer?: unknown }).Buffer,
    }))
    expect(globals).toEqual({ subtle: 'function', process: 'undefined', buffer: 'undefined' })
  })

  it('chats with a pre-shared key; only ciphertext crosses the wire', async () => {
    const prompt = 'browser secret 7f3a'
    const before = servers.carried.length
    const outcome = await call('chat', { baseURL: `${servers.relay}/pass/v1`, keys: shared(), prompt })
    expect(outcome).toEqual({ ok: true, text: replyFor(prompt), model: 'gpt-4o-mini' })
    const sent = servers.carried.slice(before)
    expect(sent).toHaveLength(1)
    expect(sent[0]).toContain('cp2.k-browser.')
    expect(sent[0]).not.toContain(prompt)
    expect(servers.upstream.requests.at(-1)?.body).toContain(prompt)
  })

  it('streams with a pre-shared key', async () => {
    const prompt = 'stream me, browser'
    const outcome = await call('stream', { baseURL: `${servers.url}/v1`, keys: shared(), prompt })
    expect(outcome.ok && outcome.text).toBe(replyFor(prompt))
    expect(outcome.ok && outcome.chunks).toBeGreaterThan(1)
  })

  it('chats and streams with X25519 key agreement pinned by fingerprint', async () => {
    const chat = await call('chat', { baseURL: `${servers.url}/v1`, keys: pinned(), prompt: 'agreed chat' })
    expect(chat).toMatchObject({ ok: true, text: replyFor('agreed chat') })
    const stream = await call('stream', {
      baseURL: `${servers.url}/v1`,
      keys: pinned(),
      prompt: 'agreed stream',
    })
    expect(stream).toMatchObject({ ok: true, text: replyFor('agreed stream') })
    expect(servers.upstream.requests.at(-1)?.body).toContain('agreed stream')
  })

  it('agrees classically with a hybrid key that allows it, and refuses one that does not', async () => {
    // The browser build has no hybrid agreement yet (docs/browser.md): with `prefer` it takes the
    // classical agreement a hybrid key offers, after checking the one fingerprint over both keys.
    const agreed = await call('chat', {
      baseURL: `${servers.url}/pq/v1`,
      keys: { agreement: { fingerprint: servers.hybridFingerprints.pq } },
      prompt: 'classical under a hybrid key',
    })
    expect(agreed).toMatchObject({ ok: true, text: replyFor('classical under a hybrid key') })
    const before = servers.upstream.requests.length
    for (const hybrid of ['prefer', 'require'] as const) {
      const refused = await call('chat', {
        baseURL: `${servers.url}/pq-only/v1`,
        keys: { agreement: { fingerprint: servers.hybridFingerprints.pqOnly, hybrid } },
        prompt: 'hybrid only',
      })
      expect(refused).toMatchObject({ ok: false, code: 'CONTINUUM_KEY_AGREEMENT_FAILED' })
    }
    expect(servers.upstream.requests.length).toBe(before)
  })

  it('refuses an answer a relay tampered with', async () => {
    const outcome = await call('chat', {
      baseURL: `${servers.relay}/tamper/v1`,
      keys: shared(),
      prompt: 'tamper',
    })
    expect(outcome).toMatchObject({ ok: false, code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
  })

  it('refuses a stream a relay cut before its end marker', async () => {
    const outcome = await call('stream', {
      baseURL: `${servers.relay}/truncate/v1`,
      keys: shared(),
      prompt: 'cut me',
    })
    expect(outcome).toMatchObject({ ok: false, phase: 'stream', code: 'CONTINUUM_STREAM_TRUNCATED' })
  })

  it('answers a redirect as unauthenticated: the SDK does not run the request again', async () => {
    // Chromium answers `redirect: 'manual'` with an opaque redirect (status 0, no headers), which
    // no Response can be made of: the client must still answer it, not throw a connection error
    // the SDK retries after the relay already had the upstream run the request.
    const before = servers.upstream.requests.length
    const outcome = await call('chat', {
      baseURL: `${servers.relay}/redirect/v1`,
      keys: shared(),
      prompt: 'redirect me',
      maxRetries: 2,
    })
    expect(outcome).toMatchObject({ ok: false, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect(servers.upstream.requests.length - before).toBe(1)
  })

  it('refuses a swapped server key when the fingerprint is pinned, and sends nothing', async () => {
    const before = servers.carried.length
    const outcome = await call('chat', {
      baseURL: `${servers.relay}/swap/v1`,
      keys: pinned(),
      prompt: 'swap',
    })
    expect(outcome).toMatchObject({ ok: false, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    expect(servers.carried.length).toBe(before)
  })

  it('reproduces the shared protocol vectors on WebCrypto in the page', async () => {
    const vectors = readFileSync(new URL('../fixtures/protocol-vectors.json', import.meta.url), 'utf8')
    const report = await page.page.evaluate(
      (input) => (globalThis as unknown as { continuumTest: PageApi }).continuumTest.vectors(input),
      vectors,
    )
    expect(report.backend).toBe('webcrypto')
    expect(report.failures).toEqual([])
    expect(report.checks).toBeGreaterThan(700)
  })
})
