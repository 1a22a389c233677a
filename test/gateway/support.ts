/**
 * Shared pieces of the gateway tests: the provider fakes (Anthropic, an OpenAI-shaped vLLM server,
 * Bedrock, OpenAI, Vertex), a router over real provider clients pointed at them, and the official SDK
 * clients with or without `createEncryptedFetch`. Public model names are aliases, so each test
 * picks the provider by name: `claude` (Anthropic), `llama` (vLLM), `bedrock-claude` (Bedrock), `gemini` (Vertex),
 * `gpt-4o-mini` and `text-embedding-3-small` (OpenAI).
 */
import { randomBytes } from 'node:crypto'
import Anthropic from '@anthropic-ai/sdk'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { anthropic, bedrock, ollama, openai, tgi, vertex, vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import OpenAI from 'openai'
import { afterAll, beforeAll } from 'vitest'
import type { RouterOptions } from '../../src/router/options'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { startAnthropicServer } from '../kit/anthropic'
import { FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION, startBedrockServer } from '../kit/bedrock'
import { openaiDialect, startOpenAIServer } from '../kit/openai'
import type { FakeUpstream } from '../kit/server'
import { startVertexServer, VERTEX_LOCATION, VERTEX_PROJECT } from '../kit/vertex'

export const ANTHROPIC_KEY = 'sk-ant-gateway'
export const OPENAI_KEY = 'sk-openai-gateway'
export const KEY_ID = 'gateway-k1'
export const KEY = randomBytes(32)
export const CLAUDE_MODEL = 'claude-sonnet-4-20250514'
export const LLAMA_MODEL = 'meta-llama/Llama-3.1-8B-Instruct'
export const BEDROCK_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0'
export const GEMINI_MODEL = 'gemini-2.0-flash-001'
const VERTEX_TOKEN = 'ya29.gateway'

/** The running provider fakes. */
export interface Fakes {
  anthropic: FakeUpstream
  vllm: FakeUpstream
  bedrock: FakeUpstream
  openai: FakeUpstream
  vertex: FakeUpstream
  close(): Promise<void>
}

export async function startFakes(): Promise<Fakes> {
  const [anthropicFake, vllmFake, bedrockFake, openaiFake, vertexFake] = await Promise.all([
    startAnthropicServer(ANTHROPIC_KEY),
    startOpenAIServer(openaiDialect(undefined), 'vllm'),
    startBedrockServer(),
    startOpenAIServer(openaiDialect(OPENAI_KEY), 'openai'),
    startVertexServer(VERTEX_TOKEN),
  ])
  return {
    anthropic: anthropicFake,
    vllm: vllmFake,
    bedrock: bedrockFake,
    openai: openaiFake,
    vertex: vertexFake,
    async close() {
      await Promise.all([
        anthropicFake.close(),
        vllmFake.close(),
        bedrockFake.close(),
        openaiFake.close(),
        vertexFake.close(),
      ])
    },
  }
}

/** A router over the four fakes; `overrides` replace router options. */
export function fakeRouter(fakes: Fakes, overrides: Partial<RouterOptions> = {}): InferenceRouter {
  return new InferenceRouter({
    providers: [
      anthropic({
        id: 'claude',
        apiKey: ANTHROPIC_KEY,
        baseURL: fakes.anthropic.url,
        models: [CLAUDE_MODEL],
      }),
      vllm({ id: 'local-vllm', endpoints: [fakes.vllm.url], models: [LLAMA_MODEL] }),
      bedrock({
        id: 'aws',
        region: FAKE_AWS_REGION,
        credentials: FAKE_AWS_CREDENTIALS,
        baseURL: fakes.bedrock.url,
        controlPlaneURL: fakes.bedrock.url,
        models: [BEDROCK_MODEL],
      }),
      openai({
        id: 'openai',
        apiKey: OPENAI_KEY,
        baseURL: `${fakes.openai.url}/v1`,
        models: ['gpt-4o-mini', 'text-embedding-3-small'],
      }),
      vertex({
        id: 'gcp',
        project: VERTEX_PROJECT,
        location: VERTEX_LOCATION,
        accessToken: VERTEX_TOKEN,
        baseURL: fakes.vertex.url,
        models: [GEMINI_MODEL],
      }),
    ],
    aliases: {
      claude: { claude: CLAUDE_MODEL },
      llama: { 'local-vllm': LLAMA_MODEL },
      'bedrock-claude': { aws: BEDROCK_MODEL },
      gemini: { gcp: GEMINI_MODEL },
    },
    retry: { maxRetries: 0 },
    ...overrides,
  })
}

/** The official OpenAI client, without retries; encrypting when `encrypted`. */
export function openaiClient(url: string, encrypted: boolean, wire?: typeof fetch): OpenAI {
  return new OpenAI({
    baseURL: `${url}/v1`,
    apiKey: 'sk-client',
    maxRetries: 0,
    ...fetchOption(encrypted, wire),
  })
}

/** The official Anthropic client, without retries; encrypting when `encrypted`. */
export function anthropicClient(url: string, encrypted: boolean, wire?: typeof fetch): Anthropic {
  return new Anthropic({
    baseURL: url,
    apiKey: 'sk-ant-client',
    maxRetries: 0,
    ...fetchOption(encrypted, wire),
  })
}

function fetchOption(encrypted: boolean, wire: typeof fetch | undefined): { fetch?: typeof fetch } {
  if (encrypted) {
    return {
      fetch: createEncryptedFetch({
        keyId: KEY_ID,
        key: KEY,
        ...(wire === undefined ? {} : { fetch: wire }),
      }),
    }
  }
  return wire === undefined ? {} : { fetch: wire }
}

/** Proxy keys for the encrypted runs. */
export function gatewayKeys(): { keys: { id: string; key: Uint8Array }[] } {
  return { keys: [{ id: KEY_ID, key: KEY }] }
}

/** Reads a stream to its end. */
export async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // read to the end
  }
}

/** The one model a single-provider test serves. */
export const SERVED_MODEL = 'served-model'

/** Each provider type as id `p`, pointed at a fake server's base URL and serving {@link SERVED_MODEL}. */
export const providerAt = {
  anthropic: (url: string) => anthropic({ id: 'p', apiKey: 'sk-ant', baseURL: url, models: [SERVED_MODEL] }),
  openai: (url: string) => openai({ id: 'p', apiKey: 'sk-x', baseURL: `${url}/v1`, models: [SERVED_MODEL] }),
  vllm: (url: string) => vllm({ id: 'p', endpoints: [url], models: [SERVED_MODEL] }),
  ollama: (url: string) => ollama({ id: 'p', baseURL: url, models: [SERVED_MODEL] }),
  tgi: (url: string) => tgi({ id: 'p', baseURL: url, models: [SERVED_MODEL] }),
  vertex: (url: string) =>
    vertex({
      id: 'p',
      project: 'proj',
      location: 'us-central1',
      accessToken: 'ya29.x',
      baseURL: url,
      models: [SERVED_MODEL],
    }),
  bedrock: (url: string) =>
    bedrock({
      id: 'p',
      region: FAKE_AWS_REGION,
      credentials: FAKE_AWS_CREDENTIALS,
      baseURL: url,
      controlPlaneURL: url,
      models: [SERVED_MODEL],
    }),
}

/**
 * Tool schemas of the wrong type (a JSON Schema must be an object), one holding a secret that no
 * refusal may echo (`vault`).
 */
export const WRONG_SCHEMAS = [
  ['a string', 'the vault combination is 31-41-59'],
  ['an array', ['the vault combination is 31-41-59']],
  ['a number', 5],
  ['a boolean', true],
] as const

/** A running gateway: the provider fakes, the router over them, and Express serving it. */
export interface RunningGateway {
  readonly fakes: Fakes
  readonly router: InferenceRouter
  readonly app: RunningApp
}

/**
 * The gateway of a describe block on Express (the suite's one binding where the framework is not
 * the point), started before its tests and closed after them; read its parts inside the tests.
 */
export function expressGateway(): RunningGateway {
  const running = {} as { fakes: Fakes; router: InferenceRouter; app: RunningApp }
  beforeAll(async () => {
    running.fakes = await startFakes()
    running.router = fakeRouter(running.fakes)
    running.app = await rootFrameworks
      .find((harness) => harness.name === 'express')!
      .start({ router: running.router })
  })
  afterAll(async () => {
    await running.app?.close()
    await running.router?.close()
    await running.fakes?.close()
  })
  return running
}
