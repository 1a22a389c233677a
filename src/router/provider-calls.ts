/**
 * The provider call of each router operation, as `#run` makes it on every attempt: the request
 * under the provider's own model name and the attempt's signal, and the answer tagged with the
 * provider that gave it. Module functions, so a request makes no closure to carry them.
 */
import { ContinuumError } from '../errors'
import type {
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingRequest,
  EmbeddingResponse,
  TokenCountResponse,
} from '../protocol/canonical'
import type { ProviderRuntime } from './routing-plan'

/** What an attempt answers: anything that may report token usage. */
export type Answer = { usage?: { inputTokens: number; outputTokens: number } }

/** One provider call of an operation: made once here, not per request. */
export type ProviderCall<R, T> = (
  runtime: ProviderRuntime,
  request: R,
  model: string,
  signal: AbortSignal,
) => Promise<T>

export async function completeAt(
  runtime: ProviderRuntime,
  request: CanonicalRequest,
  model: string,
  signal: AbortSignal,
): Promise<CanonicalResponse> {
  const response = await runtime.provider.complete({ ...request, model, signal })
  return { ...response, provider: runtime.provider.id }
}

export async function countTokensAt(
  runtime: ProviderRuntime,
  request: CanonicalRequest,
  model: string,
  signal: AbortSignal,
): Promise<TokenCountResponse & { usage?: undefined }> {
  const count = runtime.provider.countTokens
  if (count === undefined) {
    throw new ContinuumError(
      'CONTINUUM_NOT_SUPPORTED',
      `Provider ${runtime.provider.id} cannot count tokens`,
      {
        details: { provider: runtime.provider.id },
        isRetryable: false,
      },
    )
  }
  const response = await count.call(runtime.provider, { ...request, model, signal })
  return { ...response, provider: runtime.provider.id }
}

export async function embedAt(
  runtime: ProviderRuntime,
  request: EmbeddingRequest,
  model: string,
  signal: AbortSignal,
): Promise<EmbeddingResponse> {
  const response = await runtime.provider.embed({ ...request, model, signal })
  return { ...response, provider: runtime.provider.id }
}
