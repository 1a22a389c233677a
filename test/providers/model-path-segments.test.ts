/**
 * Azure OpenAI (without a deployments map) and Bedrock put the model name in the URL path as one
 * segment. `encodeURIComponent` keeps `/`, `?` and `#` in it but leaves dots alone, and URL
 * parsing (undici's and the SigV4 signer's) resolves a `.` or `..` segment: a client naming the
 * model `..` sent the provider's credentials and its prompt to `/openai/chat/completions` or
 * `/converse`, outside the deployment or model it may name. Through a router serving any model
 * (`*`), every such name is refused as an unknown model and nothing leaves its segment.
 */
import type { CanonicalRequest, StreamChunk } from 'continuum-proxy'
import type { InferenceProvider } from 'continuum-proxy/provider-kit'
import { azureOpenAI, bedrock } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION } from '../kit/bedrock'
import { jsonReply } from '../kit/replies'
import { FakeUpstream } from '../kit/server'
import { caught } from './caught'

interface Case {
  name: string
  build(baseURL: string): InferenceProvider
  /** Where every call must stay, whatever the model is named. */
  prefix: string
}

const cases: Case[] = [
  {
    name: 'azure openai',
    build: (endpoint) => azureOpenAI({ endpoint, apiKey: 'azure-key', models: ['*'] }),
    prefix: '/openai/deployments/',
  },
  {
    name: 'bedrock',
    build: (baseURL) =>
      bedrock({
        region: FAKE_AWS_REGION,
        credentials: FAKE_AWS_CREDENTIALS,
        baseURL,
        controlPlaneURL: baseURL,
        models: ['*'],
      }),
    prefix: '/model/',
  },
]

async function drain(stream: AsyncIterable<StreamChunk>): Promise<void> {
  for await (const chunk of stream) if (chunk.type === 'error') throw chunk.error
}

describe.each(cases)('$name keeps the model name inside its path segment', (suite) => {
  let fake: FakeUpstream
  let router: InferenceRouter
  beforeAll(async () => {
    fake = await FakeUpstream.start(() => jsonReply({ message: 'not here' }, 404))
    router = new InferenceRouter({ providers: [suite.build(fake.url)], retry: { maxRetries: 0 } })
  })
  afterAll(async () => {
    await router.close()
    await fake.close()
  })

  for (const model of ['..', '.']) {
    it(`refuses the model "${model}" for chat, streams and embeddings without leaving the segment`, async () => {
      const before = fake.requests.length
      const chat: CanonicalRequest = { model, messages: [{ role: 'user', content: 'the prompt' }] }
      const errors = [
        await caught(router.complete(chat)),
        await caught(drain(router.stream(chat))),
        await caught(router.embed({ model, input: ['the prompt'] })),
      ]
      const escaped = fake.requests
        .slice(before)
        .map((seen) => seen.url)
        .filter((url) => !url.startsWith(suite.prefix))
      expect(escaped).toEqual([])
      for (const error of errors) expect(error.code).toBe('CONTINUUM_MODEL_NOT_FOUND')
    })
  }

  it('still sends a model whose name only contains dots inside its segment', async () => {
    const before = fake.requests.length
    await caught(router.complete({ model: '..x', messages: [{ role: 'user', content: 'hi' }] }))
    expect(fake.requests.slice(before).map((seen) => seen.url.split('?')[0])).toEqual([
      expect.stringMatching(new RegExp(`^${suite.prefix}\\.\\.x/`)),
    ])
  })
})
