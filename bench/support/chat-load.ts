/**
 * The load the proxy-facing suites (cipher, proxy, gateway) send: one 2 KB Chat Completions request
 * and an undici call that posts a prepared request and reads the whole answer.
 */
import type { Pool } from 'undici'

/** A 2 KB chat request: a 290-byte system prompt and a 1,650-byte user message. */
export const CHAT_BODY = {
  model: 'bench',
  max_tokens: 128,
  messages: [
    { role: 'system', content: 'You are a helpful assistant. '.repeat(10) },
    { role: 'user', content: 'Summarise the following text. '.repeat(55) },
  ],
}

/** A request ready to send: the serialised body and its headers. */
export interface BenchRequest {
  body: string
  headers: Record<string, string>
}

/** POSTs the request to /v1/chat/completions, reads the whole body, and throws on a non-200 status. */
export async function send(pool: Pool, request: BenchRequest): Promise<void> {
  const status = await post(pool, request)
  if (status.code !== 200)
    throw new Error(`status ${status.code}${status.error === undefined ? '' : ` ${status.error}`}`)
}

/** POSTs the request and reads the whole body: the status, and the error code of a refusal. */
export async function post(pool: Pool, request: BenchRequest): Promise<{ code: number; error?: string }> {
  const response = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: request.headers,
    body: request.body,
  })
  const text = await response.body.text()
  if (response.statusCode === 200) return { code: 200 }
  const error = /"code":"(CONTINUUM_[A-Z_]+)"/.exec(text)?.[1]
  return error === undefined ? { code: response.statusCode } : { code: response.statusCode, error }
}
