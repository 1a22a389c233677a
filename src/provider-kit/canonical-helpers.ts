/**
 * Small translations every provider's wire mapping needs: flattening canonical content to text,
 * turning a tool call's JSON text into the object most wire formats want, and checking that an
 * upstream answer has the shape we read. Errors name paths, never the content found there.
 */
import { ContinuumError } from '../errors'
import type { CanonicalMessage, ContentPart } from '../protocol/canonical'

/** The text parts of a message joined together; image parts are skipped. */
export function contentText(content: string | ContentPart[]): string {
  if (typeof content === 'string') return content
  let text = ''
  for (const part of content) if (part.type === 'text') text += part.text
  return text
}

/** The parts of a message as an array. */
export function contentParts(content: string | ContentPart[]): ContentPart[] {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content
}

/** Parses a tool call's arguments text into an object, as Bedrock, Gemini and Ollama carry them. */
export function parseToolArguments(text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // No cause: V8's SyntaxError quotes the text around where it stopped, and that is request content.
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `${path} is not valid JSON`, {
      details: { path },
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `${path} must be a JSON object`, {
      details: { path },
    })
  }
  return value as Record<string, unknown>
}

/** A tool result's content as a JSON object when it is one, otherwise undefined. */
export function jsonObjectOrUndefined(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** An id for a tool call from a protocol that has none (Gemini, Ollama). */
export function newToolCallId(): string {
  // The global Web Crypto, not node:crypto: the client bundle for browsers includes the adapters.
  return `call_${globalThis.crypto.randomUUID().replaceAll('-', '')}`
}

/** The tool name a `tool` message answers, found through its `toolCallId` in earlier assistant turns. */
export function toolNameFor(
  messages: readonly CanonicalMessage[],
  message: CanonicalMessage,
): string | undefined {
  if (message.name !== undefined) return message.name
  for (const candidate of messages) {
    for (const call of candidate.toolCalls ?? []) if (call.id === message.toolCallId) return call.name
  }
  return undefined
}

/** Throws CONTINUUM_UPSTREAM_PROTOCOL_ERROR: the provider's answer does not have the documented shape. */
export function protocolError(providerId: string, what: string): ContinuumError {
  return new ContinuumError('CONTINUUM_UPSTREAM_PROTOCOL_ERROR', `Provider ${providerId} sent ${what}`, {
    details: { provider: providerId },
  })
}

/**
 * A tool call's arguments as the canonical JSON text, from the value a provider sent. JSON.parse takes nesting that JSON.stringify cannot write back (its recursion
 * runs out of stack): such arguments are the provider breaking its protocol, a 502 that is not
 * retried, not a transient failure fetched again on every retry.
 */
export function toolArgumentsText(value: unknown, providerId: string): string {
  try {
    return JSON.stringify(value ?? {})
  } catch {
    throw protocolError(providerId, 'tool call arguments nested too deep to carry')
  }
}

/** Throws when a stream ended before its terminal event. */
export function streamEndedEarly(providerId: string): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_UPSTREAM_STREAM_ABORTED',
    `Provider ${providerId} ended the stream before its final event`,
    { details: { provider: providerId } },
  )
}

/** Whether a value is a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A non-negative integer or undefined. */
export function countOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined
}

/** The embeddings-not-supported error. */
export function embeddingsNotSupported(providerId: string): ContinuumError {
  return new ContinuumError('CONTINUUM_NOT_SUPPORTED', `Provider ${providerId} does not serve embeddings`, {
    details: { provider: providerId },
  })
}

/** A failure the provider reported inside a stream it had already started with a 200. */
export function streamFailure(providerId: string, kind: string, isRetryable: boolean): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_PROVIDER_ERROR',
    `Provider ${providerId} reported ${kind} during the stream`,
    {
      details: { provider: providerId, upstreamError: kind },
      isRetryable,
    },
  )
}
