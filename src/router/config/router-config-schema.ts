/**
 * The JSON Schema of the `[inference]` configuration section, shared by TOML and JSON files and
 * code. Each constrained leaf carries an `expect` annotation so validation errors read like
 * `inference.providers.openai.timeout_ms: must be a positive integer` instead of ajv's keywords.
 * Unknown keys are errors, so a typo never silently falls back to a default.
 */
import type { ProviderRegistry } from '../../provider-kit/provider-registry'

const positiveInteger = { type: 'integer', minimum: 1, expect: 'a positive integer' }
const nonNegativeInteger = { type: 'integer', minimum: 0, expect: 'a non-negative integer' }
const nonNegativeNumber = { type: 'number', minimum: 0, expect: 'a non-negative number' }
const text = { type: 'string', minLength: 1, expect: 'a non-empty string' }
const textList = { type: 'array', items: text, expect: 'an array of strings' }
const classifications = {
  type: 'array',
  items: {
    enum: ['public', 'internal', 'confidential', 'restricted'],
    expect: 'one of public, internal, confidential, restricted',
  },
  expect: 'an array of public, internal, confidential, restricted',
}

export const ROUTING_POLICIES = [
  'cloud_first',
  'local_only',
  'classification_based',
  'cost_optimized',
  'latency_optimized',
  'weighted',
  'least_busy',
  'fallback_chain',
] as const

/** The keys every provider table may hold, whatever its type. */
const commonProviderProperties = {
  endpoint: text,
  api_key: text,
  models: {
    ...textList,
    minItems: 1,
    uniqueItems: true,
    expect: 'a non-empty array of distinct model names, or ["*"]',
  },
  timeout_ms: positiveInteger,
  requests_per_minute: positiveInteger,
  tokens_per_minute: positiveInteger,
  max_concurrency: positiveInteger,
  local: { type: 'boolean', expect: 'true or false' },
  streaming: { type: 'boolean', expect: 'true or false' },
  tools: { type: 'boolean', expect: 'true or false' },
  vision: { type: 'boolean', expect: 'true or false' },
  embeddings: { type: 'boolean', expect: 'true or false' },
  cost_per_million_input: nonNegativeNumber,
  cost_per_million_output: nonNegativeNumber,
  latency_p50_ms: positiveInteger,
  latency_p99_ms: positiveInteger,
  context_window: positiveInteger,
  headers: { type: 'object', additionalProperties: text, expect: 'a table of strings' },
  settings: { type: 'object', expect: 'a table' },
  integrity: {
    type: 'object',
    additionalProperties: false,
    required: ['public_key', 'models'],
    expect: 'a table',
    properties: {
      public_key: text,
      require_manifest: { type: 'boolean', expect: 'true or false' },
      models: {
        type: 'object',
        expect: 'a table',
        additionalProperties: {
          type: 'object',
          additionalProperties: false,
          required: ['folder', 'manifest'],
          expect: 'a table',
          properties: { folder: text, manifest: text },
        },
      },
    },
  },
}

/** Keys every provider table may hold, whatever its type (the rest are the type's own). */
export const COMMON_PROVIDER_KEYS: ReadonlySet<string> = new Set([
  'type',
  ...Object.keys(commonProviderProperties),
])

/** The schema of one provider table: the common keys, the type, and every registered type's own keys. */
function providerSchema(registry: ProviderRegistry): Record<string, unknown> {
  const types = registry.types()
  const typeSettings: Record<string, unknown> = {}
  for (const type of types) {
    for (const [key, schema] of Object.entries(registry.get(type)?.settings ?? {}))
      typeSettings[key] ??= schema
  }
  return {
    type: 'object',
    required: ['type'],
    additionalProperties: false,
    expect: 'a table',
    properties: {
      ...typeSettings,
      ...commonProviderProperties,
      type:
        types.length === 0
          ? { not: {}, expect: 'a registered provider type (none is registered)' }
          : { enum: types, expect: `one of ${types.join(', ')}` },
    },
  }
}

const table = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  expect: 'a table',
  properties,
})

/**
 * The schema of a whole config document for the provider types of `registry`; sections other than
 * `inference` belong to others and pass.
 */
export function routerConfigSchema(registry: ProviderRegistry): Record<string, unknown> {
  return {
    type: 'object',
    required: ['inference'],
    expect: 'a table',
    properties: {
      inference: {
        ...table({
          routing_policy: { enum: ROUTING_POLICIES, expect: `one of ${ROUTING_POLICIES.join(', ')}` },
          fallback_to_local: { type: 'boolean', expect: 'true or false' },
          fallback_chain: { ...textList, minItems: 1 },
          fallback_chains: {
            type: 'object',
            additionalProperties: { ...textList, minItems: 1 },
            expect: 'a table',
          },
          max_cost_per_million: nonNegativeNumber,
          max_latency_ms: positiveInteger,
          weights: { type: 'object', additionalProperties: nonNegativeNumber, expect: 'a table of numbers' },
          security: table({ local_classifications: classifications }),
          retry: table({
            max_retries: nonNegativeInteger,
            base_delay_ms: nonNegativeInteger,
            max_delay_ms: nonNegativeInteger,
            max_retry_after_ms: nonNegativeInteger,
          }),
          breaker: table({
            failure_threshold: positiveInteger,
            failure_rate: { type: 'number', exclusiveMinimum: 0, maximum: 1, expect: 'a number in (0, 1]' },
            minimum_requests: positiveInteger,
            window_ms: positiveInteger,
            cooldown_ms: positiveInteger,
            half_open_probes: positiveInteger,
            count_timeouts: { enum: ['unresponsive', 'always'], expect: 'unresponsive or always' },
          }),
          timeouts: table({
            attempt_ms: positiveInteger,
            total_ms: positiveInteger,
            stream_idle_ms: positiveInteger,
            health_ms: positiveInteger,
          }),
          aliases: {
            type: 'object',
            expect: 'a table',
            additionalProperties: {
              type: 'object',
              additionalProperties: text,
              expect: 'a table of model names',
            },
          },
          providers: {
            type: 'object',
            minProperties: 1,
            expect: 'a table with at least one provider',
            propertyNames: { pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
            additionalProperties: providerSchema(registry),
          },
        }),
        required: ['providers'],
      },
    },
  }
}
