import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContinuumError } from 'continuum-proxy'
import { builtinProviderTypes } from 'continuum-proxy/providers'
import {
  computeModelDigest,
  defineProviderType,
  InferenceRouter,
  loadRouterConfig,
  type ProviderConfig,
  type ProviderFactory,
  ProviderRegistry,
  signModelManifest,
} from 'continuum-proxy/router'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chat, FakeProvider } from '../router/fake-provider'

let folder: string
let seen: ProviderConfig[]
let factory: ProviderFactory

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'continuum-config-'))
  seen = []
  factory = (config) => {
    seen.push(config)
    return new FakeProvider(config.id, { capabilities: { models: config.models } })
  }
})

afterEach(async () => {
  await rm(folder, { recursive: true, force: true })
})

/** Every built-in type's name and settings, built by the recording factory. */
const everyType = () =>
  builtinProviderTypes().map((type) =>
    defineProviderType({ type: type.type, settings: { ...type.settings }, create: factory }),
  )
const onlyType = (name: string) => everyType().filter((type) => type.type === name)

async function failure(promise: Promise<unknown>): Promise<ContinuumError> {
  try {
    await promise
  } catch (error) {
    if (ContinuumError.isInstance(error)) return error
    throw error
  }
  throw new Error('expected a failure')
}

describe('loadRouterConfig', () => {
  it('loads the example TOML, resolving env: and file: secrets, into a working router', async () => {
    await writeFile(join(folder, 'azure-key'), 'azure-secret-value\n')
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const weights = join(folder, 'weights')
    await (await import('node:fs/promises')).mkdir(weights)
    await writeFile(join(weights, 'model.safetensors'), 'weights')
    const manifest = signModelManifest(
      { model: 'meta-llama/Meta-Llama-3-8B-Instruct', digest: (await computeModelDigest(weights)).digest },
      privateKey,
    )
    const files: Record<string, string> = {
      '/run/secrets/azure-openai-key': join(folder, 'azure-key'),
    }
    const virtual: Record<string, string> = {
      '/etc/continuum/model-signing.pub': publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      '/models/Meta-Llama-3-8B-Instruct.manifest.json': JSON.stringify(manifest),
    }
    const { readFile } = await import('node:fs/promises')
    const options = await loadRouterConfig(new URL('../../examples/router.toml', import.meta.url).pathname, {
      env: { OPENAI_API_KEY: 'sk-test-openai' },
      readFile: async (path) => virtual[path] ?? readFile(files[path] ?? path, 'utf8'),
      providerTypes: new ProviderRegistry(everyType()),
    })
    expect(seen.map((config) => [config.id, config.type])).toEqual([
      ['openai', 'openai'],
      ['azure', 'azure_openai'],
      ['local-vllm', 'vllm'],
    ])
    expect(seen[0]).toMatchObject({
      apiKey: 'sk-test-openai',
      endpoint: 'https://api.openai.com/v1',
      timeoutMs: 60000,
      capabilities: { costPerMillion: { input: 2.5, output: 10 } },
    })
    expect(seen[1]).toMatchObject({
      apiKey: 'azure-secret-value',
      settings: { deployment: 'prod-gpt4o', api_version: '2024-10-21' },
    })
    expect(options.policy).toEqual({
      type: 'classification_based',
      fallbackToLocal: true,
      localFor: ['confidential', 'restricted'],
    })
    expect(options.rateLimits).toEqual({
      openai: { requestsPerMinute: 500, tokensPerMinute: 300000, maxConcurrency: 64 },
      'local-vllm': { maxConcurrency: 16 },
    })
    expect(options.retry).toEqual({
      maxRetries: 2,
      baseDelayMs: 100,
      maxDelayMs: 5000,
      maxRetryAfterMs: 30000,
    })
    expect(JSON.stringify(options.policy) + JSON.stringify(options.rateLimits)).not.toContain('sk-test')

    // The weights folder in the example is virtual: point the manifest check at the real one.
    const router = new InferenceRouter(options)
    const plan = await router.explain(chat('llama-3-8b', { metadata: { classification: 'restricted' } }))
    expect(plan.candidates.map((candidate) => [candidate.provider, candidate.model])).toEqual([
      ['local-vllm', 'meta-llama/Meta-Llama-3-8B-Instruct'],
    ])
    expect((await router.explain(chat('gpt-4o'))).candidates.map((candidate) => candidate.provider)).toEqual([
      'openai',
      'azure',
    ])
    expect(options.providers[2]!.capabilities).toMatchObject({
      local: true,
      latencyMs: { p50: 80, p99: 400 },
    })
    // The example's weights folder does not exist here, so the model is refused, never served unverified.
    await expect(router.complete(chat('llama-3-8b'))).rejects.toMatchObject({
      code: 'CONTINUUM_MODEL_INTEGRITY_FAILED',
      details: { reason: 'unreadable' },
    })
  })

  it('verifies declared model manifests before first use', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    await writeFile(join(folder, 'weights.bin'), 'real weights')
    const digest = (await computeModelDigest(folder)).digest
    const manifestPath = join(folder, '..', `manifest-${Date.now()}.json`)
    await writeFile(manifestPath, JSON.stringify(signModelManifest({ model: 'llama', digest }, privateKey)))
    try {
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
      const config = {
        inference: {
          routing_policy: 'local_only',
          providers: {
            ollama: {
              type: 'ollama',
              local: true,
              models: ['llama'],
              integrity: {
                public_key: 'env:MODEL_KEY',
                models: { llama: { folder, manifest: manifestPath } },
              },
            },
          },
        },
      }
      const router = new InferenceRouter(
        await loadRouterConfig(config, { env: { MODEL_KEY: pem }, providerTypes: onlyType('ollama') }),
      )
      await expect(router.complete(chat('llama'))).resolves.toMatchObject({ provider: 'ollama' })
      await writeFile(join(folder, 'weights.bin'), 'swapped weights')
      const fresh = new InferenceRouter(
        await loadRouterConfig(config, { env: { MODEL_KEY: pem }, providerTypes: onlyType('ollama') }),
      )
      await expect(fresh.complete(chat('llama'))).rejects.toMatchObject({
        code: 'CONTINUUM_MODEL_INTEGRITY_FAILED',
      })
    } finally {
      await rm(manifestPath, { force: true })
    }
  })

  it('loads JSON files and plain objects with the same validation', async () => {
    const path = join(folder, 'router.json')
    await writeFile(
      path,
      JSON.stringify({
        inference: {
          routing_policy: 'fallback_chain',
          fallback_chain: ['b', 'a'],
          providers: {
            a: { type: 'tgi', local: true, models: ['*'] },
            b: { type: 'anthropic', api_key: 'plain-key', models: ['*'] },
          },
        },
      }),
    )
    const options = await loadRouterConfig(path, { providerTypes: everyType() })
    expect(options.policy).toEqual({ type: 'fallback_chain', chain: ['b', 'a'] })
    expect(seen[1]!.apiKey).toBe('plain-key')
    const router = new InferenceRouter(options)
    await expect(router.complete(chat())).resolves.toMatchObject({ provider: 'b' })
  })

  it('names the offending key and why', async () => {
    const load = (inference: Record<string, unknown>) =>
      failure(loadRouterConfig({ inference }, { providerTypes: everyType(), env: {} }))
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { providers: { openai: { type: 'openai', timeout_ms: -5 } } },
        'inference.providers.openai.timeout_ms: must be a positive integer',
      ],
      [
        { providers: { openai: { type: 'openai', timout_ms: 5 } } },
        'inference.providers.openai.timout_ms: is not a known key',
      ],
      [
        { providers: { openai: { type: 'gpt' } } },
        'inference.providers.openai.type: must be one of openai, azure_openai',
      ],
      [{ providers: { openai: {} } }, 'inference.providers.openai.type: is required'],
      [{ providers: {} }, 'inference.providers: must be a table with at least one provider'],
      [
        { routing_policy: 'random', providers: { a: { type: 'vllm' } } },
        'inference.routing_policy: must be one of cloud_first',
      ],
      [
        { breaker: { failure_rate: 2 }, providers: { a: { type: 'vllm' } } },
        'inference.breaker.failure_rate: must be a number in (0, 1]',
      ],
      [
        { security: { local_classifications: ['secret'] }, providers: { a: { type: 'vllm' } } },
        'inference.security.local_classifications[0]: must be one of public, internal',
      ],
      [
        { routing_policy: 'fallback_chain', providers: { a: { type: 'vllm' } } },
        'inference.fallback_chain: is required',
      ],
      [
        { fallback_chain: ['nope'], providers: { a: { type: 'vllm' } } },
        'inference.fallback_chain: names unknown provider "nope"',
      ],
      [
        { aliases: { m: { nope: 'x' } }, providers: { a: { type: 'vllm' } } },
        'inference.aliases.m: names unknown provider "nope"',
      ],
    ]
    for (const [inference, message] of cases) {
      const error = await load(inference)
      expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
      expect(error.status).toBe(500)
      expect(error.message.startsWith(message), `${error.message} should start with ${message}`).toBe(true)
    }
    expect((await failure(loadRouterConfig({}, { providerTypes: [] }))).message).toBe(
      'inference: is required',
    )
  })

  it('fails on a type that is not registered', async () => {
    const error = await failure(
      loadRouterConfig(
        { inference: { providers: { claude: { type: 'anthropic' } } } },
        { providerTypes: onlyType('openai') },
      ),
    )
    expect(error.message).toBe('inference.providers.claude.type: must be one of openai')
  })

  it('names the unresolved secret reference, never a value', async () => {
    const env = { OTHER_SECRET: 'sk-should-never-appear' }
    const missingEnv = await failure(
      loadRouterConfig(
        { inference: { providers: { openai: { type: 'openai', api_key: 'env:OPENAI_API_KEY' } } } },
        { env, providerTypes: everyType() },
      ),
    )
    expect(missingEnv.code).toBe('CONTINUUM_SECRET_UNRESOLVED')
    expect(missingEnv.message).toBe(
      'inference.providers.openai.api_key: secret reference env:OPENAI_API_KEY is not set',
    )
    const missingFile = await failure(
      loadRouterConfig(
        {
          inference: { providers: { openai: { type: 'openai', headers: { 'x-key': 'file:/nope/secret' } } } },
        },
        { env, providerTypes: everyType() },
      ),
    )
    expect(missingFile.message).toBe(
      'inference.providers.openai.headers.x-key: secret reference file:/nope/secret could not be read',
    )
    expect(JSON.stringify(missingFile.toJSON())).not.toContain('sk-should-never-appear')
  })

  it('reports TOML syntax errors by position only, never quoting the file', async () => {
    const path = join(folder, 'broken.toml')
    await writeFile(path, '[inference]\napi_key = "sk-live-123\n')
    const error = await failure(loadRouterConfig(path, { providerTypes: everyType() }))
    expect(error.code).toBe('CONTINUUM_CONFIG_INVALID')
    expect(error.message).toMatch(/is not valid TOML \(line \d+, column \d+\)/)
    expect(error.message).not.toContain('sk-live')
    const unreadable = await failure(
      loadRouterConfig(join(folder, 'missing.toml'), { providerTypes: everyType() }),
    )
    expect(unreadable.message).toMatch(/the configuration file could not be read \(ENOENT\)$/)
  })

  it('rejects a factory that returns the wrong thing, bad type names and unknown types', () => {
    const registry = new ProviderRegistry([
      defineProviderType({ type: 'openai', create: () => new FakeProvider('other-id') }),
    ])
    const config: ProviderConfig = {
      id: 'openai',
      type: 'openai',
      models: [],
      timeoutMs: 1000,
      headers: {},
      capabilities: {},
      settings: {},
    }
    expect(() => registry.create(config, { clock: { now: Date.now }, logger: console })).toThrow(
      /must return a v1 provider/,
    )
    expect(() => registry.register(defineProviderType({ type: 'Grok!', create: factory }))).toThrow(
      /snake_case/,
    )
    expect(() =>
      registry.create({ ...config, type: 'grok' }, { clock: { now: Date.now }, logger: console }),
    ).toThrow(/no provider type "grok" is registered/)
    expect(registry.has('openai')).toBe(true)
    expect(registry.types()).toEqual(['openai'])
  })
})
