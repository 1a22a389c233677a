/**
 * What the test page runs, bundled for the browser with the official `openai` SDK: chat calls
 * and streams through `createEncryptedFetch` from `continuum-proxy/client`, exactly as an
 * application would write them, and the shared protocol vectors. Results and errors go back to
 * the test as plain JSON (error name, message and `CONTINUUM_*` code, never an object).
 */
import { createEncryptedFetch, type EncryptedFetchOptions } from 'continuum-proxy/client'
import OpenAI from 'openai'
import { checkSharedVectors } from './vector-check'

/** How the page is told to call: the base URL and the key options of the encrypting fetch. */
export interface CallInput {
  baseURL: string
  keys:
    | { keyId: string; key: string }
    | { agreement: { fingerprint: string; hybrid?: 'prefer' | 'require' | 'off' } }
  prompt: string
  /** The SDK's retries (default 0). */
  maxRetries?: number
}

/** A call's outcome as the page reports it. */
export type CallOutcome =
  | { ok: true; text: string; model?: string; chunks?: number }
  | { ok: false; name: string; message: string; code?: string; phase: 'request' | 'stream' }

function encryptedClient(input: CallInput): OpenAI {
  const options: EncryptedFetchOptions =
    'agreement' in input.keys ? { agreement: input.keys.agreement } : input.keys
  return new OpenAI({
    baseURL: input.baseURL,
    apiKey: 'sk-browser-test',
    dangerouslyAllowBrowser: true,
    maxRetries: input.maxRetries ?? 0,
    fetch: createEncryptedFetch(options),
  })
}

function failure(error: unknown, phase: 'request' | 'stream'): CallOutcome {
  const value = error as { name?: string; message?: string; code?: unknown; cause?: { code?: unknown } }
  const code =
    typeof value.code === 'string'
      ? value.code
      : typeof value.cause?.code === 'string'
        ? value.cause.code
        : undefined
  return {
    ok: false,
    name: String(value.name),
    message: String(value.message),
    phase,
    ...(code === undefined ? {} : { code }),
  }
}

async function chat(input: CallInput): Promise<CallOutcome> {
  try {
    const completion = await encryptedClient(input).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: input.prompt }],
    })
    return { ok: true, text: completion.choices[0]?.message.content ?? '', model: completion.model }
  } catch (error) {
    return failure(error, 'request')
  }
}

async function stream(input: CallInput): Promise<CallOutcome> {
  let events: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>
  try {
    events = await encryptedClient(input).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: input.prompt }],
      stream: true,
    })
  } catch (error) {
    return failure(error, 'request')
  }
  let text = ''
  let chunks = 0
  try {
    for await (const chunk of events) {
      chunks++
      text += chunk.choices[0]?.delta.content ?? ''
    }
  } catch (error) {
    return failure(error, 'stream')
  }
  return { ok: true, text, chunks }
}

/** The vectors travel as JSON text: a structured copy would turn their `__proto__` members into prototypes. */
const vectors = (text: string) => checkSharedVectors(JSON.parse(text))

/** What the page offers the test; Deno and Bun run it too (test/runtimes/runtime-entry.ts). */
export const pageApi = { chat, stream, vectors }
export type PageApi = typeof pageApi

Object.assign(globalThis, { continuumTest: pageApi, continuumReady: true })
