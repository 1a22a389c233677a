/**
 * A provider that answers with a redirect (3xx with a `Location` on another host) must not make
 * the router follow it. undici's `request()` never follows one, but an injected `fetch` (the
 * `fetch` option of every provider and of `loadRouterConfig`) follows redirects by default, and
 * fetch strips only `Authorization` when the origin changes: `x-api-key` (Anthropic), `api-key`
 * (Azure) and any configured header went to the other host, and a 307/308 re-sent the decrypted
 * prompt there too. Each provider here is pointed at its protocol's fake, which redirects to a
 * second fake standing for the attacker's host; the attacker must see nothing, whichever
 * transport sends, and the caller gets the coded error a 3xx maps to.
 */
import type { CanonicalRequest, StreamChunk } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { anthropic, azureOpenAI, openai } from 'continuum-proxy/providers'
import { fetch as undiciFetch } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAnthropicServer } from '../kit/anthropic'
import { azureDialect, openaiDialect, startOpenAIServer } from '../kit/openai'
import type { FakeUpstream } from '../kit/server'
import { caught } from './caught'
import { openaiRequest } from './openai-fixtures'

const PROMPT = 'the confidential prompt that must stay with the provider'
const request: CanonicalRequest = {
  ...openaiRequest,
  model: 'served-model',
  messages: [{ role: 'user', content: PROMPT }],
}

interface Case {
  name: string
  secret: string
  /** The path the provider calls, kept in the redirect as an API that moved host would. */
  path: string
  /** Starts the fake of the protocol; it accepts `secret`, so the attacker's copy would answer. */
  start(secret: string): Promise<FakeUpstream>
  build(baseURL: string, secret: string, fetch: typeof globalThis.fetch | undefined): InferenceProvider
}

const cases: Case[] = [
  {
    name: 'anthropic (x-api-key)',
    secret: 'sk-ant-api03-redirect-5ecret',
    path: '/v1/messages',
    start: (secret) => startAnthropicServer(secret),
    build: (baseURL, apiKey, fetch) =>
      anthropic({ apiKey, baseURL, models: ['served-model'], ...(fetch === undefined ? {} : { fetch }) }),
  },
  {
    name: 'azure openai (api-key)',
    secret: 'azure-redirect-5ecret-resource-key',
    path: '/openai/deployments/served-model/chat/completions',
    start: (secret) => startOpenAIServer(azureDialect({ apiKey: secret }, ['served-model']), 'azure-openai'),
    build: (endpoint, apiKey, fetch) =>
      azureOpenAI({ endpoint, apiKey, ...(fetch === undefined ? {} : { fetch }) }),
  },
  {
    name: 'openai (authorization)',
    secret: 'sk-redirect-5ecret',
    path: '/v1/chat/completions',
    start: (secret) => startOpenAIServer(openaiDialect(secret)),
    build: (baseURL, apiKey, fetch) =>
      openai({ apiKey, baseURL: `${baseURL}/v1`, ...(fetch === undefined ? {} : { fetch }) }),
  },
]

const caughtRedirect = (promise: Promise<unknown>) =>
  caught(promise, 'expected a rejection: the redirect was followed')

const transports: Array<[string, typeof globalThis.fetch | undefined]> = [
  ['undici request()', undefined],
  ['an injected undici fetch', undiciFetch as unknown as typeof globalThis.fetch],
  ['an injected global fetch', globalThis.fetch],
]

async function drain(stream: AsyncIterable<StreamChunk>): Promise<void> {
  for await (const _chunk of stream) {
    // Reading to the end or to the error is all that matters here.
  }
}

describe.each(cases)('$name answering with a redirect to another host', (suite) => {
  let provider: FakeUpstream
  let attacker: FakeUpstream
  beforeAll(async () => {
    provider = await suite.start(suite.secret)
    attacker = await suite.start(suite.secret)
  })
  afterAll(async () => {
    await provider.close()
    await attacker.close()
  })

  describe.each(transports)('through %s', (_transport, fetch) => {
    for (const status of [301, 302, 303, 307, 308]) {
      it(`does not follow a ${status}: nothing reaches the other host, the caller gets a coded error`, async () => {
        const client = suite.build(provider.url, suite.secret, fetch)
        const before = attacker.requests.length
        const redirect = {
          kind: 'body' as const,
          status,
          headers: { location: `${attacker.url}${suite.path}`, 'content-type': 'text/plain' },
          body: 'moved',
        }
        provider.queue(redirect)
        const completeError = await caughtRedirect(client.complete(request))
        provider.queue(redirect)
        const streamError = await caughtRedirect(drain(client.stream(request)))
        await client.close?.()

        const reached = attacker.requests.slice(before)
        const leaks = reached.map((seen) => ({
          request: `${seen.method} ${seen.url}`,
          carriesTheKey: JSON.stringify(seen.headers).includes(suite.secret),
          carriesThePrompt: seen.body.includes(PROMPT),
        }))
        expect(leaks).toEqual([])
        for (const error of [completeError, streamError]) {
          expect(error.code).toBe('CONTINUUM_PROVIDER_ERROR')
          expect(error.details?.upstreamStatus).toBe(status)
          expect(error.isRetryable).toBe(false)
          expect(JSON.stringify(error.toJSON())).not.toContain(suite.secret)
        }
      })
    }
  })
})
