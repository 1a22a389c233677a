/**
 * The encrypted response cache end to end: the real Express middleware on port 0, official
 * OpenAI clients behind `createEncryptedFetch`, and the fake OpenAI-compatible upstream, which
 * records every request it receives so a hit is visible as a request that never arrived.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { replyFor } from '../kit/openai-echo'
import { type CacheApp, chatRequests, recordedClient, startCacheApp } from './support'

async function ask(client: ReturnType<typeof recordedClient>, prompt: string, extra: object = {}) {
  const answer = await client.openai.chat.completions.create({
    model: 'llama-3-8b',
    messages: [{ role: 'user', content: prompt }],
    ...extra,
  })
  return answer.choices[0]?.message.content
}

async function askStream(client: ReturnType<typeof recordedClient>, prompt: string): Promise<string> {
  const stream = await client.openai.chat.completions.create({
    model: 'llama-3-8b',
    stream: true,
    messages: [{ role: 'user', content: prompt }],
  })
  let text = ''
  for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
  return text
}

describe('encrypted response cache through Express', () => {
  let app: CacheApp

  beforeAll(async () => {
    app = await startCacheApp()
  })

  afterAll(async () => {
    await app.close()
  })

  afterEach(() => {
    app.cache.clear()
  })

  it('answers a second client with a different nonce from the cache, re-encrypted for it', async () => {
    const first = recordedClient(app.origin)
    const second = recordedClient(app.origin)
    const before = chatRequests(app.upstream)
    expect(await ask(first, 'what is the capital of France')).toBe(replyFor('what is the capital of France'))
    expect(await ask(second, 'what is the capital of France')).toBe(replyFor('what is the capital of France'))
    expect(chatRequests(app.upstream) - before).toBe(1)
    expect(first.results).toEqual(['miss'])
    expect(second.results).toEqual(['hit'])
    await Promise.all([first.settled(), second.settled()])
    // Sealed under each requester's own nonce: the two ciphertexts differ, neither shows the answer.
    expect(first.responses[0]).not.toBe(second.responses[0])
    for (const wire of [...first.responses, ...second.responses]) {
      expect(wire).toContain('cp2.')
      expect(wire).not.toContain('capital of France')
    }
  })

  it('replays a stream from the cache; it decrypts and verifies (end marker) for the new requester', async () => {
    const first = recordedClient(app.origin)
    const second = recordedClient(app.origin)
    const before = chatRequests(app.upstream)
    expect(await askStream(first, 'stream this answer please')).toBe(replyFor('stream this answer please'))
    expect(await askStream(second, 'stream this answer please')).toBe(replyFor('stream this answer please'))
    expect(chatRequests(app.upstream) - before).toBe(1)
    expect(second.results).toEqual(['hit'])
    await Promise.all([first.settled(), second.settled()])
    expect(second.responses[0]).toContain('event: continuum.end')
    expect(second.responses[0]).not.toContain('stream this answer')
    expect(second.responses[0]).not.toBe(first.responses[0])
  })

  it('keeps scopes apart: another API key misses', async () => {
    const before = chatRequests(app.upstream)
    await ask(recordedClient(app.origin, 'sk-tenant-a'), 'shared question')
    const other = recordedClient(app.origin, 'sk-tenant-b')
    expect(await ask(other, 'shared question')).toBe(replyFor('shared question'))
    expect(other.results).toEqual(['miss'])
    expect(chatRequests(app.upstream) - before).toBe(2)
  })

  it('bypasses the cache on cache-control: no-store and no-cache', async () => {
    const client = recordedClient(app.origin)
    const before = chatRequests(app.upstream)
    for (const directive of ['no-store', 'max-age=0, no-cache']) {
      const answer = await client.openai.chat.completions.create(
        { model: 'llama-3-8b', messages: [{ role: 'user', content: 'private question' }] },
        { headers: { 'cache-control': directive } },
      )
      expect(answer.choices[0]?.message.content).toBe(replyFor('private question'))
    }
    expect(client.results).toEqual(['bypass', 'bypass'])
    expect(chatRequests(app.upstream) - before).toBe(2)
    expect(app.cache.size).toBe(0)
  })

  it('bypasses sampling requests (temperature above 0); temperature 0 is cached', async () => {
    const client = recordedClient(app.origin)
    await ask(client, 'creative question', { temperature: 0.8 })
    await ask(client, 'creative question', { temperature: 0.8 })
    await ask(client, 'exact question', { temperature: 0 })
    await ask(client, 'exact question', { temperature: 0 })
    expect(client.results).toEqual(['bypass', 'bypass', 'miss', 'hit'])
  })

  it('stores no plaintext: keys are hex HMACs, values AES-GCM ciphertext', async () => {
    const client = recordedClient(app.origin)
    await ask(client, 'the launch code is swordfish')
    await askStream(client, 'the launch code is marlin')
    const entries = [...app.cache.sealedEntries()]
    expect(entries).toHaveLength(2)
    for (const [key, sealed] of entries) {
      expect(key).toMatch(/^[0-9a-f]{64}$/)
      for (const secret of ['swordfish', 'marlin', 'launch code', 'echo:', 'chat.completion', 'llama-3-8b']) {
        expect(sealed.includes(secret)).toBe(false)
        expect(key.includes(secret)).toBe(false)
      }
    }
  })

  it('does not store upstream errors, cut streams, or streams without their terminal event', async () => {
    const client = recordedClient(app.origin)
    const before = chatRequests(app.upstream)
    for (let round = 0; round < 2; round++) {
      await expect(ask(client, 'bad one', { model: 'upstream-400' })).rejects.toThrow()
      const cut = await client.openai.chat.completions.create({
        model: 'cut-stream',
        stream: true,
        messages: [{ role: 'user', content: 'one two three four five' }],
      })
      await expect(
        (async () => {
          for await (const _ of cut) {
            // drain
          }
        })(),
      ).rejects.toThrow()
      const early = await client.openai.chat.completions.create({
        model: 'no-done',
        stream: true,
        messages: [{ role: 'user', content: 'ends early' }],
      })
      await expect(
        (async () => {
          for await (const _ of early) {
            // drain
          }
        })(),
      ).rejects.toThrow()
    }
    expect(chatRequests(app.upstream) - before).toBe(6)
    expect(client.results.every((result) => result === 'miss')).toBe(true)
    expect(app.cache.size).toBe(0)
  })

  it('caches embeddings and legacy completions as well', async () => {
    const client = recordedClient(app.origin)
    for (let round = 0; round < 2; round++) {
      const embedding = await client.openai.embeddings.create({ model: 'embed', input: 'embed me' })
      expect(embedding.data[0]?.embedding).toEqual([0.8, 0.5, -0.25])
      const completion = await client.openai.completions.create({
        model: 'llama-3-8b',
        prompt: 'complete me',
      })
      expect(completion.choices[0]?.text).toBe(replyFor('complete me'))
    }
    expect(client.results).toEqual(['miss', 'miss', 'hit', 'hit'])
  })
})
