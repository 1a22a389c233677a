import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI from 'openai'

const fetch = createEncryptedFetch({
  keyId: process.env.CONTINUUM_KEY_ID ?? 'k1',
  key: process.env.CONTINUUM_KEY!,
})
const openai = new OpenAI({
  baseURL: process.env.CONTINUUM_URL ?? 'http://127.0.0.1:8080/v1',
  apiKey: process.env.OPENAI_API_KEY ?? 'none', // the inference server's own key, if it has one
  fetch,
})
const answer = await openai.chat.completions.create({
  model: process.env.CONTINUUM_MODEL ?? 'llama-3-8b',
  messages: [{ role: 'user', content: 'Hello there' }],
})
console.log(answer.choices[0]?.message.content)
