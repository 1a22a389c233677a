/**
 * A man in the middle rewrites the `classical` flag of a hybrid key document. The server's hybrid
 * key agrees post-quantum sessions only and publishes `classical: false`; the relay of
 * servers.ts sets it to `true`, keeping the published fingerprint or stating the fingerprint of
 * the document as altered. A client that cannot agree the hybrid way (the browser build, which has
 * no ML-KEM, in the default `prefer`, in a real headless Chromium) or will not (`hybrid: 'off'`,
 * in Node) would then agree X25519 alone and send its request under a key that a future quantum
 * computer recovers from a recording, and only then hear the server refuse it. The pinned
 * fingerprint covers the flag (docs/PROTOCOL.md §1.2), so the client refuses the document with
 * CONTINUUM_SERVER_KEY_MISMATCH before it encrypts anything: the relay carries no request to the
 * middleware and the upstream sees none. An honest `classical: true` key still serves the
 * browser through the same relay.
 */
import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI from 'openai'
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

beforeAll(async () => {
  const bundle = await bundleForBrowser('test/browser/page-entry.ts')
  servers = await startBrowserServers(() => page.origin)
  browser = await launchChromium()
  page = await openTestPage(browser, bundle.code)
}, 120_000)

afterAll(async () => {
  await page?.close()
  await browser?.close()
  await servers?.close()
})

function chatInPage(input: CallInput): Promise<CallOutcome> {
  return page.page.evaluate(
    (args) => (globalThis as unknown as { continuumTest: PageApi }).continuumTest.chat(args),
    input,
  )
}

/** What reached the middleware and the upstream while `attempt` ran. */
async function reached(attempt: () => Promise<unknown>): Promise<{ carried: number; upstream: number }> {
  const carried = servers.carried.length
  const upstream = servers.upstream.requests.length
  await attempt()
  return { carried: servers.carried.length - carried, upstream: servers.upstream.requests.length - upstream }
}

const RELAY_MODES = ['classical', 'classical-restated'] as const

describe('a relay that sets classical: true on a hybrid-only key document', () => {
  it.each(RELAY_MODES)(
    'the browser build (prefer, no ML-KEM) refuses it and sends nothing (%s)',
    async (mode) => {
      let outcome: CallOutcome | undefined
      const seen = await reached(async () => {
        outcome = await chatInPage({
          baseURL: `${servers.relay}/${mode}/pq-only/v1`,
          keys: { agreement: { fingerprint: servers.hybridFingerprints.pqOnly } },
          prompt: 'downgraded by the relay',
        })
      })
      expect(seen).toEqual({ carried: 0, upstream: 0 })
      expect(outcome).toMatchObject({ ok: false, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    },
  )

  it.each(RELAY_MODES)(
    "the Node build with hybrid: 'off' refuses it and sends nothing (%s)",
    async (mode) => {
      const client = new OpenAI({
        baseURL: `${servers.relay}/${mode}/pq-only/v1`,
        apiKey: 'sk-relay-test',
        maxRetries: 0,
        fetch: createEncryptedFetch({
          agreement: { fingerprint: servers.hybridFingerprints.pqOnly, hybrid: 'off' },
        }),
      })
      let failure: unknown
      const seen = await reached(async () => {
        failure = await client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'downgraded by the relay' }] })
          .catch((error: unknown) => error)
      })
      expect(seen).toEqual({ carried: 0, upstream: 0 })
      expect(failure).toMatchObject({ code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    },
  )

  it('leaves a key the server publishes with classical: true usable through the same relay', async () => {
    const outcome = await chatInPage({
      baseURL: `${servers.relay}/pass/pq/v1`,
      keys: { agreement: { fingerprint: servers.hybridFingerprints.pq } },
      prompt: 'classical, as the server allows',
    })
    expect(outcome).toMatchObject({ ok: true, text: replyFor('classical, as the server allows') })
  })
})
