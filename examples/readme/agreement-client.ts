import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI from 'openai'

// The fingerprint keygen printed, pinned: a server with another key is refused.
const fetch = createEncryptedFetch({ agreement: { fingerprint: process.env.CONTINUUM_FINGERPRINT! } })
const openai = new OpenAI({
  baseURL: process.env.CONTINUUM_URL ?? 'http://127.0.0.1:8080/v1',
  apiKey: process.env.OPENAI_API_KEY ?? 'none',
  fetch,
})
const answer = await openai.chat.completions.create({
  model: process.env.CONTINUUM_MODEL ?? 'llama-3-8b',
  messages: [{ role: 'user', content: 'Hello there' }],
})
console.log(answer.choices[0]?.message.content)
