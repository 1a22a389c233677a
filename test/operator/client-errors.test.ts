/**
 * What a client sees when something is wrong (issue 13, item 2), through the official SDKs with
 * their default retries on: a wrong pinned fingerprint is the SDK's APIError with code
 * CONTINUUM_SERVER_KEY_MISMATCH after one key fetch (it was `APIConnectionError: Connection
 * error.` after three attempts); a wrong key for a known id and an unknown key id read
 * differently (the server cannot seal those refusals, so the client reports what they claim and
 * what that usually means); an unsealed answer from something on the path is never retried; a
 * forged success is refused once, not three times.
 */
import { randomBytes } from 'node:crypto'
import Anthropic from '@anthropic-ai/sdk'
import { fingerprint, generateAgreementKeyPair } from 'continuum-proxy'
import { createEncryptedFetch, type EncryptedFetchOptions } from 'continuum-proxy/client'
import OpenAI, { APIConnectionError, APIError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningProxy, startExpressProxy } from '../adapters/harness'
import { KEY, KEY_ID, SECRET } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

let upstream: FakeUpstream
let proxy: RunningProxy
const agreement = generateAgreementKeyPair()

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
  proxy = await startExpressProxy({
    upstream: upstream.url,
    keys: {
      keys: [{ id: KEY_ID, key: KEY }],
      agreementKeys: [{ id: 'a1', privateKey: agreement.privateKey }],
    },
  })
})
afterAll(async () => {
  await proxy.close()
  await upstream.close()
})

/** A fetch that counts what it carried and may answer in place of the server. */
function wire(answer?: (url: string, init?: RequestInit) => Response | undefined) {
  const sent: string[] = []
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input)
    sent.push(`${init?.method ?? 'GET'} ${new URL(url).pathname}`)
    return answer?.(url, init) ?? globalThis.fetch(input, init)
  }) as typeof fetch
  return { fetch: fetcher, sent }
}

/** The official OpenAI SDK with its default retries over the encrypting fetch. */
function openai(options: EncryptedFetchOptions): OpenAI {
  return new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-test', fetch: createEncryptedFetch(options) })
}

function ask(client: OpenAI): Promise<unknown> {
  return client.chat.completions
    .create({ model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] })
    .catch((error: unknown) => error)
}

describe('the client surfaces continuum errors as themselves', () => {
  it('a wrong fingerprint: APIError CONTINUUM_SERVER_KEY_MISMATCH, one key fetch, nothing sent', async () => {
    const recorded = wire()
    const wrong = fingerprint(generateAgreementKeyPair().publicKeyBytes)
    const error = await ask(openai({ agreement: { fingerprint: wrong }, fetch: recorded.fetch }))
    expect(error).toBeInstanceOf(APIError)
    expect(error).not.toBeInstanceOf(APIConnectionError)
    expect(error).toMatchObject({ status: 502, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    expect((error as Error).message).toContain('does not match the pinned or trusted fingerprint')
    expect((error as APIError).headers?.get('x-continuum-error-origin')).toBe('client')
    expect(recorded.sent).toEqual(['GET /.well-known/continuum-key'])
  })

  it('the same through the Anthropic SDK', async () => {
    const recorded = wire()
    const anthropic = new Anthropic({
      baseURL: proxy.url,
      apiKey: 'sk-ant-test',
      fetch: createEncryptedFetch({
        agreement: { fingerprint: fingerprint(generateAgreementKeyPair().publicKeyBytes) },
        fetch: recorded.fetch,
      }),
    })
    const error = await anthropic.messages
      .create({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: SECRET }] })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ status: 502 })
    expect((error as Error).message).toContain('CONTINUUM_SERVER_KEY_MISMATCH')
    expect(recorded.sent).toEqual(['GET /.well-known/continuum-key'])
  })

  it('a wrong key for a known id reads as a key mismatch, is sent once, and names no secret', async () => {
    const recorded = wire()
    const error = await ask(openai({ keyId: KEY_ID, key: randomBytes(32), fetch: recorded.fetch }))
    expect(error).toMatchObject({ status: 400, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    const message = (error as Error).message
    expect(message).toContain('claims CONTINUUM_INTEGRITY_FAILED')
    expect(message).toContain(`the key this client holds for "${KEY_ID}" is not the server's`)
    expect(message).not.toContain(SECRET)
    expect((error as APIError).error).toMatchObject({ claimedCode: 'CONTINUUM_INTEGRITY_FAILED' })
    expect(recorded.sent).toEqual(['POST /v1/chat/completions'])
  })

  it('an unknown key id reads as such, not as tampering', async () => {
    const recorded = wire()
    const error = await ask(openai({ keyId: 'k-nobody-has', key: KEY, fetch: recorded.fetch }))
    expect(error).toMatchObject({ status: 401, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect((error as Error).message).toContain('claims CONTINUUM_KEY_UNKNOWN')
    expect((error as Error).message).toContain('the server has no key "k-nobody-has"')
    expect((error as Error).message).not.toContain('changed the request')
    expect(recorded.sent).toEqual(['POST /v1/chat/completions'])
  })

  it('an unsealed 503 from something on the path is reported as such and not retried', async () => {
    const recorded = wire((url) =>
      url.endsWith('/v1/chat/completions')
        ? new Response('upstream connect error', { status: 503 })
        : undefined,
    )
    const error = await ask(openai({ keyId: KEY_ID, key: KEY, fetch: recorded.fetch }))
    expect(error).toMatchObject({ status: 503, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect((error as Error).message).toContain('names no continuum-proxy code')
    expect((error as Error).message).not.toContain('upstream connect error')
    expect(recorded.sent).toEqual(['POST /v1/chat/completions'])
  })

  it('a forged unencrypted success is refused once, not retried', async () => {
    const recorded = wire((url) =>
      url.endsWith('/v1/chat/completions')
        ? Response.json({ choices: [{ index: 0, message: { role: 'assistant', content: 'forged' } }] })
        : undefined,
    )
    const error = await ask(openai({ keyId: KEY_ID, key: KEY, fetch: recorded.fetch }))
    expect(error).toMatchObject({ status: 502, code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
    expect(recorded.sent).toEqual(['POST /v1/chat/completions'])
  })
})
