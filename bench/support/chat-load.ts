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
  const response = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: request.headers,
    body: request.body,
  })
  await response.body.arrayBuffer()
  if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
}
