/**
 * The default provider registry: every provider type of the configuration has its factory, the
 * shipped `examples/router.toml` loads with it, and a TOML config naming all nine types builds a
 * router that the gateway serves: an OpenAI-format and an Anthropic-format client reach providers
 * configured only through TOML (secrets as `env:` references).
 */
import { readFile } from 'node:fs/promises'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { builtinProviderTypes, createDefaultProviderRegistry } from 'continuum-proxy/providers'
import { defineProviderType, InferenceRouter, loadRouterConfig } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningApp, rootFrameworks } from '../conformance/frameworks'
import { FAKE_AWS_CREDENTIALS, FAKE_AWS_REGION } from '../kit/bedrock'
import {
  ANTHROPIC_KEY,
  anthropicClient,
  BEDROCK_MODEL,
  CLAUDE_MODEL,
  type Fakes,
  LLAMA_MODEL,
  OPENAI_KEY,
  openaiClient,
  startFakes,
} from './support'

function configText(fakes: Fakes): string {
  return `
[inference]
routing_policy = "cloud_first"

[inference.aliases.claude]
anthropic = "${CLAUDE_MODEL}"

[inference.aliases.llama]
local-vllm = "${LLAMA_MODEL}"

[inference.providers.openai]
type = "openai"
endpoint = "${fakes.openai.url}/v1"
api_key = "env:OPENAI_API_KEY"
models = ["gpt-4o-mini"]

[inference.providers.azure]
type = "azure_openai"
endpoint = "https://example.openai.azure.com"
api_key = "env:AZURE_KEY"
deployment = "prod-gpt4o"
models = ["prod-gpt4o"]

[inference.providers.anthropic]
type = "anthropic"
endpoint = "${fakes.anthropic.url}"
api_key = "env:ANTHROPIC_API_KEY"
models = ["${CLAUDE_MODEL}"]

[inference.providers.aws]
type = "bedrock"
endpoint = "${fakes.bedrock.url}"
region = "${FAKE_AWS_REGION}"
access_key_id = "env:AWS_ACCESS_KEY_ID"
secret_access_key = "env:AWS_SECRET_ACCESS_KEY"
session_token = "env:AWS_SESSION_TOKEN"
models = ["${BEDROCK_MODEL}"]

[inference.providers.gcp]
type = "vertex"
project = "demo-project"
location = "us-central1"
api_key = "env:VERTEX_TOKEN"
models = ["gemini-2.0-flash"]

[inference.providers.local-vllm]
type = "vllm"
endpoint = "${fakes.vllm.url}"
local = true
models = ["${LLAMA_MODEL}"]

[inference.providers.compat]
type = "openai_compatible"
endpoint = "http://127.0.0.1:9/v1"
models = ["compat-model"]

[inference.providers.tgi]
type = "tgi"
endpoint = "http://127.0.0.1:9"
local = true
models = ["tgi-model"]

[inference.providers.ollama]
type = "ollama"
endpoint = "http://127.0.0.1:9"
local = true
models = ["llama3.2"]
`
}

const env = {
  OPENAI_API_KEY: OPENAI_KEY,
  AZURE_KEY: 'azure-key',
  ANTHROPIC_API_KEY: ANTHROPIC_KEY,
  AWS_ACCESS_KEY_ID: FAKE_AWS_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: FAKE_AWS_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: FAKE_AWS_CREDENTIALS.sessionToken,
  VERTEX_TOKEN: 'ya29.token',
}

describe('createDefaultProviderRegistry', () => {
  let fakes: Fakes

  beforeAll(async () => {
    fakes = await startFakes()
  })

  afterAll(async () => {
    await fakes.close()
  })

  it('registers a factory for every provider type, in a fresh registry each call', () => {
    const registry = createDefaultProviderRegistry()
    expect(registry.types().sort()).toEqual([
      'anthropic',
      'azure_openai',
      'bedrock',
      'ollama',
      'openai',
      'openai_compatible',
      'tgi',
      'vertex',
      'vllm',
    ])
    expect(
      builtinProviderTypes()
        .map((type) => type.type)
        .sort(),
    ).toEqual(registry.types().sort())
    registry.register(
      defineProviderType({
        type: 'ollama',
        create: () => {
          throw new Error('replaced')
        },
      }),
    )
    expect(() =>
      createDefaultProviderRegistry().create(
        {
          id: 'o',
          type: 'ollama',
          models: [],
          timeoutMs: 1000,
          headers: {},
          capabilities: {},
          settings: {},
        },
        { clock: { now: () => 0 }, logger: { debug() {}, info() {}, warn() {}, error() {} } },
      ),
    ).not.toThrow()
  })

  it('loads examples/router.toml', async () => {
    const files: Record<string, string> = {
      'examples/router.toml': await readFile('examples/router.toml', 'utf8'),
      '/run/secrets/azure-openai-key': 'azure-secret',
      '/etc/continuum/model-signing.pub': 'unused-until-the-first-request',
      '/models/Meta-Llama-3-8B-Instruct.manifest.json': '{}',
    }
    const options = await loadRouterConfig('examples/router.toml', {
      providerTypes: createDefaultProviderRegistry(),
      env: { OPENAI_API_KEY: 'sk-example' },
      readFile: async (path) => {
        const text = files[path]
        if (text === undefined) throw new Error(`no file ${path}`)
        return text
      },
    })
    expect(options.providers.map((provider) => provider.id)).toEqual(['openai', 'azure', 'local-vllm'])
    const router = new InferenceRouter(options)
    expect(router.models().map((model) => model.id)).toEqual(expect.arrayContaining(['gpt-4o', 'llama-3-8b']))
    await router.close()
  })

  describe('a TOML config with all nine provider types, served by the gateway', () => {
    let router: InferenceRouter
    let app: RunningApp

    beforeAll(async () => {
      const text = configText(fakes)
      const options = await loadRouterConfig('router.toml', {
        providerTypes: createDefaultProviderRegistry(),
        env,
        readFile: async () => text,
      })
      router = new InferenceRouter({ ...options, retry: { maxRetries: 0 } })
      app = await rootFrameworks[0]!.start({ router })
    })

    afterAll(async () => {
      await app.close()
      await router.close()
    })

    it('builds every provider', () => {
      expect(router.models().flatMap((model) => model.providers)).toEqual(
        expect.arrayContaining([
          'openai',
          'azure',
          'anthropic',
          'aws',
          'gcp',
          'local-vllm',
          'compat',
          'tgi',
          'ollama',
        ]),
      )
    })

    it('answers OpenAI- and Anthropic-format clients from configured providers', async () => {
      const claude = await openaiClient(app.url, false).chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'Hello' }],
      })
      expect(claude.choices[0]?.message.content).toBe('Hi! My name is Claude.')
      const bedrockAnswer = await anthropicClient(app.url, false).messages.create({
        model: BEDROCK_MODEL,
        max_tokens: 32,
        messages: [{ role: 'user', content: 'Hello' }],
      })
      expect(bedrockAnswer.content).toEqual([
        { type: 'text', text: "Hello! I'm doing well, thank you for asking." },
      ])
      const llama = await anthropicClient(app.url, false).messages.create({
        model: 'llama',
        max_tokens: 32,
        messages: [{ role: 'user', content: 'Hello' }],
      })
      expect(llama.usage).toMatchObject({ input_tokens: 42, output_tokens: 15 })
    })
  })
})

describe('proxy options: router and upstream', () => {
  it('refuses both, or neither, with CONTINUUM_INVALID_OPTIONS', async () => {
    const router = new InferenceRouter({
      providers: [
        {
          specificationVersion: 'v1',
          id: 'none',
          capabilities: {
            models: [],
            contextWindow: 1000,
            streaming: true,
            tools: true,
            vision: false,
            embeddings: false,
            latencyMs: { p50: 1, p99: 1 },
            costPerMillion: { input: 0, output: 0 },
            local: true,
          },
          complete: () => Promise.reject(new Error('unused')),
          stream: () => ({
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('unused')) }),
          }),
          embed: () => Promise.reject(new Error('unused')),
          health: async () => ({ status: 'healthy' }),
        },
      ],
    })
    const { createProxy } = await import('continuum-proxy')
    const adapters = builtinAdapters()
    expect(() => createProxy({ router, upstream: 'http://127.0.0.1:1', adapters })).toThrow(
      /either upstream or router/,
    )
    expect(() => createProxy({ adapters })).toThrow(/upstream is required/)
    expect(() => createProxy({ upstream: 'http://127.0.0.1:1', gateway: {}, adapters })).toThrow(
      /gateway options need a router/,
    )
    expect(() => createProxy({ router: {} as never, adapters })).toThrow(/router must be an InferenceRouter/)
    expect(() => createProxy({ upstream: 'http://127.0.0.1:1' })).toThrow(/adapters are required/)
    const upstream = { send: () => Promise.reject(new Error('unused')), close: async () => {} }
    expect(createProxy({ upstream, adapters }).options.upstream).toBe(upstream)
    await router.close()
  })
})
