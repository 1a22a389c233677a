/**
 * The example client: the official OpenAI SDK with one line changed, `fetch: createEncryptedFetch()`.
 * Prompts and answers travel encrypted; the gateway decrypts them next to the inference server.
 *
 *   CONTINUUM_URL=http://127.0.0.1:8080/v1 CONTINUUM_KEY_ID=... CONTINUUM_KEY=... ./dev client "Hi"
 *   CONTINUUM_URL=http://127.0.0.1:8080/v1 CONTINUUM_FINGERPRINT=sha256:... ./dev client "Hi"
 *
 * Without a key or a fingerprint the example opts in to trust on first use, and says so.
 */

import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI from 'openai'

const baseURL = process.env.CONTINUUM_URL ?? 'http://127.0.0.1:8080/v1'
const prompt = process.argv[2] ?? 'What is field-level encryption?'
const encryptedFetch =
  process.env.CONTINUUM_KEY !== undefined
    ? createEncryptedFetch({
        keyId: process.env.CONTINUUM_KEY_ID ?? 'demo-key',
        key: process.env.CONTINUUM_KEY,
      })
    : createEncryptedFetch({
        agreement:
          process.env.CONTINUUM_FINGERPRINT !== undefined
            ? { fingerprint: process.env.CONTINUUM_FINGERPRINT }
            : { trustOnFirstUse: true },
      })
if (process.env.CONTINUUM_KEY === undefined && process.env.CONTINUUM_FINGERPRINT === undefined) {
  console.warn('no CONTINUUM_FINGERPRINT: trusting the server key on first use')
}

const client = new OpenAI({
  baseURL,
  apiKey: process.env.OPENAI_API_KEY ?? 'not-needed',
  fetch: encryptedFetch,
})
const [model] = (await client.models.list()).data

const answer = await client.chat.completions.create({
  model: model?.id ?? 'demo-echo',
  messages: [{ role: 'user', content: prompt }],
})
console.log('answer:  ', answer.choices[0]?.message.content)

process.stdout.write('streamed: ')
const stream = await client.chat.completions.create({
  model: model?.id ?? 'demo-echo',
  stream: true,
  messages: [{ role: 'user', content: prompt }],
})
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '')
process.stdout.write('\n')
