/**
 * The router gateway example: an Express app serving OpenAI- and Anthropic-format clients from an
 * InferenceRouter, with field encryption, over two local "vLLM" servers. With no configuration it
 * starts two DEMO upstreams (echo servers, no GPU or model needed) and a fresh random key; the
 * first demo server is stopped halfway through to show the router falling over to the second.
 * It then calls itself with the official openai and @anthropic-ai/sdk clients through
 * `createEncryptedFetch` and keeps serving (pass `--once` to exit after the calls).
 *
 *   npx tsx examples/gateway-router.ts [--once]
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { continuum } from 'continuum-proxy/express'
import { vllm } from 'continuum-proxy/providers'
import { InferenceRouter } from 'continuum-proxy/router'
import express from 'express'
import OpenAI from 'openai'
import { startDemoUpstream } from './demo-upstream'

const keyId = 'demo-key'
const key = randomBytes(32).toString('base64url')
const [first, second] = await Promise.all([startDemoUpstream(), startDemoUpstream()])

const router = new InferenceRouter({
  providers: [
    vllm({ id: 'gpu-0', endpoints: [first.url], capabilities: { local: true } }),
    vllm({ id: 'gpu-1', endpoints: [second.url], capabilities: { local: true } }),
  ],
  // One public model name served by both servers, in this order.
  aliases: { 'demo-echo': { 'gpu-0': 'demo-echo', 'gpu-1': 'demo-echo' } },
  policy: { type: 'fallback_chain', chain: ['gpu-0', 'gpu-1'] },
  retry: { maxRetries: 0 },
})

const app = express()
const gateway = continuum({ router, keys: { keys: [{ id: keyId, key }] } })
app.use(gateway)
const server = app.listen(Number(process.env.PORT ?? 8081), '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
console.log(`continuum-proxy router gateway on ${url} (DEMO echo upstreams, not models)`)

const fetchOptions = { keyId, key }
const openai = new OpenAI({
  baseURL: `${url}/v1`,
  apiKey: 'unused',
  fetch: createEncryptedFetch(fetchOptions),
})
const anthropic = new Anthropic({ baseURL: url, apiKey: 'unused', fetch: createEncryptedFetch(fetchOptions) })

const chat = await openai.chat.completions.create({
  model: 'demo-echo',
  messages: [{ role: 'user', content: 'hello from the OpenAI SDK' }],
})
console.log(`OpenAI SDK  -> ${chat.choices[0]?.message.content}`)

let streamed = ''
const stream = anthropic.messages.stream({
  model: 'demo-echo',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'hello from the Anthropic SDK' }],
})
stream.on('text', (text) => {
  streamed += text
})
await stream.finalMessage()
console.log(`Anthropic SDK (streamed) -> ${streamed}`)

// gpu-0 goes away: the router answers from gpu-1 and the client never notices.
first.server.closeAllConnections()
await new Promise((resolve) => first.server.close(resolve))
const failedOver = await openai.chat.completions.create({
  model: 'demo-echo',
  messages: [{ role: 'user', content: 'still there?' }],
})
console.log(`after gpu-0 stopped -> ${failedOver.choices[0]?.message.content}`)

const shutdown = async (): Promise<void> => {
  server.closeAllConnections()
  server.close()
  await gateway.proxy.close()
  await router.close()
  second.server.closeAllConnections()
  second.server.close()
}
if (process.argv.includes('--once')) await shutdown()
else {
  console.log(`\nServing until Ctrl-C. Key for other clients: CONTINUUM_KEY_ID=${keyId} CONTINUUM_KEY=${key}`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown())
}
