/**
 * Verbatim forwarding must not let content slip past `classification_based` routing. The
 * classifier reads the canonical messages; a part only the client's dialect carries (a file, a
 * document, audio) has no canonical form, so the classifier cannot have read it. Such a request is
 * treated as restricted and stays on local providers, even when the classifier calls what it could
 * read public. An attacker's view: hide the confidential text in a file part and hope the cloud
 * provider of the same dialect gets it verbatim.
 */
import { openai, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import type { FakeUpstream } from '../kit/server'

const SECRET_FILE = Buffer.from('patient 4411: diagnosis confidential').toString('base64')

let cloud: FakeUpstream
let local: FakeUpstream
let router: InferenceRouter
let app: RunningApp
const classified: string[] = []

beforeAll(async () => {
  ;[cloud, local] = await Promise.all([startOpenAIDialectServer(), startOpenAIDialectServer()])
  router = new InferenceRouter({
    providers: [
      openai({ id: 'cloud', apiKey: 'sk-up', baseURL: `${cloud.url}/v1`, models: ['model-x'] }),
      vllm({ id: 'local', endpoints: [local.url], models: ['model-x'] }),
    ],
    policy: { type: 'classification_based' },
    // A classifier that finds nothing sensitive in what it can read.
    classifier: async (request) => {
      classified.push(request.model)
      return 'public' as const
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

function chat(content: unknown): Promise<Response> {
  return fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'model-x', messages: [{ role: 'user', content }] }),
  })
}

describe('classification of verbatim requests', () => {
  it('sends what the classifier read as public to the cloud', async () => {
    const before = cloud.requests.length
    expect((await chat('what is the weather')).status).toBe(200)
    expect(cloud.requests.length).toBe(before + 1)
    expect(classified.length).toBeGreaterThan(0)
  })

  it('keeps a request with content the classifier cannot read on the local provider', async () => {
    const cloudBefore = cloud.requests.length
    const localBefore = local.requests.length
    const response = await chat([
      { type: 'text', text: 'summarise the attached file' },
      { type: 'file', file: { filename: 'notes.txt', file_data: `data:text/plain;base64,${SECRET_FILE}` } },
    ])
    expect(response.status).toBe(200)
    expect(cloud.requests.length).toBe(cloudBefore)
    expect(local.requests.length).toBe(localBefore + 1)
    // Local vLLM speaks the dialect: the file part reached it as sent.
    expect(local.requests.at(-1)!.json().messages[0].content[1].file.file_data).toContain(SECRET_FILE)
  })
})
