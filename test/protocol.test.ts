import { createDecipheriv, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { computeProtocolVectors } from './support/protocol-vectors'

const doc = readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8')
const block = doc.slice(doc.indexOf('<!-- test-vectors -->'))
const published = JSON.parse(
  block.slice(block.indexOf('```json') + 7, block.lastIndexOf('```')),
) as ReturnType<typeof computeProtocolVectors> & {
  field: { ciphertext: string; ivHex: string; aad: string; value: string; nonce: string }
  fieldKey: { keyHex: string; sealKeyHex: string }
  requestSeal: { meta: string; canonicalBody: string; seal: string }
}

describe('docs/PROTOCOL.md test vectors', () => {
  it('match the implementation', () => {
    expect(computeProtocolVectors()).toEqual(published)
  })

  it('follow the byte layout the document describes, checked with raw node:crypto', () => {
    const { field, fieldKey, requestSeal } = published
    const payload = Buffer.from(field.ciphertext.split('.')[2] ?? '', 'base64url')
    expect(payload.subarray(0, 12).toString('hex')).toBe(field.ivHex)
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(fieldKey.keyHex, 'hex'),
      payload.subarray(0, 12),
    )
    decipher.setAAD(Buffer.from(field.aad, 'utf8'))
    decipher.setAuthTag(payload.subarray(payload.length - 16))
    const plaintext = Buffer.concat([
      decipher.update(payload.subarray(12, payload.length - 16)),
      decipher.final(),
    ])
    expect(JSON.parse(plaintext.toString('utf8'))).toBe(field.value)

    const input = `cp1|k1|${field.nonce}|request|0|request|${requestSeal.meta.length}:${requestSeal.meta}|${requestSeal.canonicalBody}`
    const seal = createHmac('sha256', Buffer.from(fieldKey.sealKeyHex, 'hex'))
      .update(input)
      .digest('base64url')
    expect(seal).toBe(requestSeal.seal)
  })
})
