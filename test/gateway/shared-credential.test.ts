/**
 * A gateway caller cannot make a provider reach other data with the gateway's own credential.
 * Azure's chat extension `data_sources` ("On Your Data") has the Azure resource query the search
 * index the request names, authenticated as the resource (its managed identity) or with keys;
 * an unknown top-level parameter is otherwise carried verbatim to a same-dialect provider, so any
 * caller could have read what the operator's Azure identity reaches. The official SDK sends it as
 * an extra body member; the gateway refuses it for every provider, naming the parameter, and
 * nothing reaches the provider.
 */
import { azureOpenAI, openai } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { azureDialect, startOpenAIServer } from '../kit/openai'
import { startOpenAIDialectServer } from '../kit/openai-dialects'
import type { FakeUpstream } from '../kit/server'
import { openaiClient } from './support'

const express = rootFrameworks.find((harness) => harness.name === 'express')!
const SECRET = 'the quarterly numbers'

/** Azure On Your Data, with the resource's own identity. */
const DATA_SOURCES = [
  {
    type: 'azure_search',
    parameters: {
      endpoint: 'https://operator-search.search.windows.net',
      index_name: 'hr-records',
      authentication: { type: 'system_assigned_managed_identity' },
    },
  },
]

describe('gateway extensions that borrow the gateway credential', () => {
  let azure: FakeUpstream
  let dialect: FakeUpstream
  let router: InferenceRouter
  let app: RunningApp

  beforeAll(async () => {
    ;[azure, dialect] = await Promise.all([
      startOpenAIServer(azureDialect({ apiKey: 'az-key' }, ['gpt-4o-prod']), 'azure-openai'),
      startOpenAIDialectServer(),
    ])
    router = new InferenceRouter({
      providers: [
        azureOpenAI({
          id: 'azure',
          endpoint: azure.url,
          apiKey: 'az-key',
          deployments: { 'gpt-4o': 'gpt-4o-prod' },
        }),
        openai({ id: 'openai', apiKey: 'sk-up', baseURL: `${dialect.url}/v1`, models: ['gpt-4o-mini'] }),
      ],
      retry: { maxRetries: 0 },
    })
    app = await express.start({ router })
  })

  afterAll(async () => {
    await app.close()
    await router.close()
    await Promise.all([azure.close(), dialect.close()])
  })

  it.each([
    ['gpt-4o', 'data_sources'],
    ['gpt-4o-mini', 'data_sources'],
    ['gpt-4o', 'dataSources'],
  ])('official SDK: %s with %s is refused, and nothing is sent', async (model, parameter) => {
    const before = [azure.requests.length, dialect.requests.length]
    const failure = await openaiClient(app.url, false)
      .chat.completions.create({
        model,
        messages: [{ role: 'user', content: SECRET }],
        [parameter]: DATA_SOURCES,
      } as Parameters<ReturnType<typeof openaiClient>['chat']['completions']['create']>[0])
      .then(
        () => ({ status: 200, code: '', message: '' }),
        (error: unknown) => error as { status: number; code: string; message: string },
      )
    expect(failure).toMatchObject({ status: 400, code: 'CONTINUUM_NOT_SUPPORTED' })
    expect(failure.message).toContain(parameter)
    expect(failure.message).not.toContain(SECRET)
    expect(failure.message).not.toContain('hr-records')
    expect([azure.requests.length, dialect.requests.length]).toEqual(before)
  })

  it('official SDK: the same request without it is served by Azure', async () => {
    const answer = await openaiClient(app.url, false).chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(answer.choices[0]?.message.role).toBe('assistant')
    expect(azure.requests.at(-1)?.json()).not.toHaveProperty('data_sources')
  })
})
