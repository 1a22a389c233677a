import { DataClassifier } from 'continuum-proxy/classifier'
import { azureOpenAI, openai, vllm } from 'continuum-proxy/providers'
import { createHealthHandler, InferenceRouter } from 'continuum-proxy/router'

const router = new InferenceRouter({
  providers: [
    openai({ apiKey: process.env.OPENAI_API_KEY! }), // id 'openai'
    azureOpenAI({
      endpoint: 'https://my-resource.openai.azure.com',
      apiKey: process.env.AZURE_KEY!,
      id: 'azure',
    }),
    vllm({ endpoints: ['http://127.0.0.1:8000'], id: 'local' }),
  ],
  policy: { type: 'classification_based', localFor: ['confidential', 'restricted'] },
  aliases: { 'gpt-4o': { openai: 'gpt-4o', azure: 'prod-gpt4o', local: 'llama-3-8b' } },
  retry: { maxRetries: 2 },
  breaker: { failureThreshold: 5, cooldownMs: 30_000 },
  timeouts: { attemptMs: 60_000, totalMs: 120_000 },
  rateLimits: { openai: { requestsPerMinute: 500, tokensPerMinute: 300_000, maxConcurrency: 64 } },
  classifier: new DataClassifier().classify, // finds secrets, card numbers, ids... in the request
  onEvent: (event) => console.log(event.type), // ids, names, codes and durations, never content
})
const request = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Hi' }] }
const answer = await router.complete(request)
for await (const chunk of router.stream(request)) console.log(chunk.type) // text-delta, tool-call-delta, usage, finish, error
console.log(answer.content, await router.explain(request)) // explain: which providers, in which order, and why; sends nothing
// GET /health for a load balancer: healthy while some provider can serve (a CoreHandler for the proxy's handlers)
export const health = createHealthHandler({ router })
