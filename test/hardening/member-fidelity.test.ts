/**
 * What the upstream receives is exactly what was sealed, member for member, on real sockets:
 * an encrypted `__proto__` member is kept as data (it used to vanish in the field walker), and a
 * duplicate member (`{"model":"x","model":"y"}`) is read the one way the seal verified and
 * forwarded re-serialised, so an intermediary appending `"model":"y"` breaks the seal and a
 * verifier that reads the first member can never disagree with what the upstream got.
 */
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compilePlainFields, createFieldKey, decryptFields, encryptFields } from '../../src/cipher'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import {
  encryptRequest,
  expectRefusal,
  KEY,
  KEY_ID,
  openaiClient,
  SECRET,
  secretChat,
  sharedKeys,
} from '../conformance/support'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

describe('the field walker keeps __proto__ as data', () => {
  it('encrypts and decrypts a __proto__ member as an own property, never a prototype', () => {
    const context = {
      key: createFieldKey('k1', Buffer.alloc(32, 1)),
      nonce: 'n',
      direction: 'request' as const,
    }
    const message = JSON.parse(
      '{"model":"m","__proto__":{"polluted":true},"meta":{"__proto__":"x"}}',
    ) as Record<string, unknown>
    const tree = compilePlainFields(['model', 'meta'])
    const encrypted = encryptFields(tree, message, context, 0) as Record<string, unknown>
    expect(Object.hasOwn(encrypted, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(encrypted)).toBe(Object.prototype)
    const decrypted = decryptFields(tree, encrypted, context, 0) as Record<string, unknown>
    expect(JSON.stringify(decrypted)).toBe(JSON.stringify(message))
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe.each(frameworks.filter((harness) => harness.prefix === ''))(
  'member fidelity via $name',
  (harness) => {
    let upstream: FakeUpstream
    let app: RunningApp

    beforeAll(async () => {
      upstream = await startOpenAIUpstream()
      app = await harness.start({ upstream: upstream.url, keys: sharedKeys() })
    })

    afterAll(async () => {
      await app.close()
      await upstream.close()
    })

    it('forwards an encrypted __proto__ member to the upstream, through the official SDK', async () => {
      const body = JSON.parse(
        `{"model":"llama-3-8b","messages":[{"role":"user","content":${JSON.stringify(SECRET)}}],"__proto__":{"tag":"kept"}}`,
      )
      const answer = await openaiClient(app, { keyId: KEY_ID, key: KEY }).chat.completions.create(body)
      expect(answer.choices[0]?.message.content).toBe(replyFor(SECRET))
      const received = JSON.parse(upstream.requests.at(-1)!.body) as Record<string, unknown>
      expect(Object.hasOwn(received, '__proto__')).toBe(true)
      expect(Object.getOwnPropertyDescriptor(received, '__proto__')?.value).toEqual({ tag: 'kept' })
    })

    it('refuses a duplicate member appended on the way: 400 CONTINUUM_INTEGRITY_FAILED', async () => {
      const built = encryptRequest('/v1/chat/completions', secretChat())
      const text = JSON.stringify(built.body).replace(/}$/, ',"model":"attacker-model"}')
      const before = upstream.requests.length
      const response = await request(app.url)
        .post('/v1/chat/completions')
        .set(built.headers)
        .set('content-type', 'application/json')
        .send(text)
      expectRefusal(response, 400, 'CONTINUUM_INTEGRITY_FAILED')
      expect(upstream.requests.length).toBe(before)
    })

    it('forwards exactly the member the seal verified when the sender repeated one', async () => {
      const built = encryptRequest('/v1/chat/completions', secretChat({ model: 'llama-3-8b' }))
      // The seal covers the parsed body (last member wins): a leading duplicate is what a
      // first-member reader would see, and must never reach the upstream.
      const text = JSON.stringify(built.body).replace(/^{/, '{"model":"first-member",')
      const response = await request(app.url)
        .post('/v1/chat/completions')
        .set(built.headers)
        .set('content-type', 'application/json')
        .send(text)
      expect(response.status).toBe(200)
      const forwarded = upstream.requests.at(-1)!.body
      expect(forwarded).not.toContain('first-member')
      expect(forwarded.match(/"model"/g)).toHaveLength(1)
      expect(JSON.parse(forwarded).model).toBe('llama-3-8b')
    })
  },
)
