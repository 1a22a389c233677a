/**
 * Embeddings go through `classification_based` routing like chat does: the classifier reads the
 * inputs to be embedded. An attacker's view (or a careless client's): a chat about the patient
 * file stays on the local model, so send the same file to `/v1/embeddings` instead and it reaches
 * the cloud provider, because nothing ever classified it.
 */
import { openai, vllm } from 'continuum-proxy/providers'
import { type CanonicalRequest, InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import type { FakeUpstream } from '../kit/server'

const SECRET = 'patient 4411: diagnosis confidential'

let cloud: FakeUpstream
let local: FakeUpstream
let router: InferenceRouter
let app: RunningApp
const classified: CanonicalRequest[] = []

beforeAll(async () => {
  ;[cloud, local] = await Promise.all([
    startOpenAIServer(openaiDialect('sk-up')),
    startOpenAIServer(undefined, 'vllm'),
  ])
  router = new InferenceRouter({
    providers: [
      openai({ id: 'cloud', apiKey: 'sk-up', baseURL: `${cloud.url}/v1`, models: ['embed-x'] }),
      vllm({ id: 'local', endpoints: [local.url], models: ['embed-x'] }),
    ],
    policy: { type: 'classification_based' },
    classifier: (request) => {
      classified.push(request)
      return JSON.stringify(request).includes('patient') ? 'restricted' : 'public'
    },
    retry: { maxRetries: 0 },
  })
  app = await rootFrameworks.find((harness) => harness.name === 'express')!.start({ router })
})

afterAll(async () => {
  await app.close()
  await router.close()
  await Promise.all([cloud.close(), local.close()])
})

/** Two inputs: the fake server's transcript answers with two vectors. */
function embed(input: [string, string]): Promise<Response> {
  return fetch(`${app.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'embed-x', input, encoding_format: 'float' }),
  })
}

describe('classification of embeddings', () => {
  it('sends inputs the classifier calls public to the cloud', async () => {
    const cloudBefore = cloud.requests.length
    expect((await embed(['what is the weather', 'and tomorrow'])).status).toBe(200)
    expect(cloud.requests.length).toBe(cloudBefore + 1)
  })

  it('keeps inputs the classifier calls restricted on the local provider', async () => {
    const cloudBefore = cloud.requests.length
    const localBefore = local.requests.length
    const classifiedBefore = classified.length
    expect((await embed(['the weather', SECRET])).status).toBe(200)
    expect(cloud.requests.length).toBe(cloudBefore)
    expect(local.requests.length).toBe(localBefore + 1)
    expect(local.requests.at(-1)!.json().input).toEqual(['the weather', SECRET])
    // The classifier saw every input, each as its own message.
    const seen = classified.slice(classifiedBefore)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.messages).toEqual([
      { role: 'user', content: 'the weather' },
      { role: 'user', content: SECRET },
    ])
  })

  it('explains an embeddings plan with the classifier answer', async () => {
    const plan = await router.explain({ model: 'embed-x', input: [SECRET] })
    expect(plan.classification).toBe('restricted')
    expect(plan.candidates.map((candidate) => candidate.provider)).toEqual(['local'])
  })
})
