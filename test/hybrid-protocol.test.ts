/**
 * The hybrid agreement's test vectors of docs/PROTOCOL.md (§9): the implementation reproduces
 * them, and they follow the text of §1.2 and §1.3, recomputed here with `@noble/post-quantum`
 * and raw `node:crypto` (no code of src/cipher), so a change to either side is caught.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import canonicalize from 'canonicalize'
import { describe, expect, it } from 'vitest'
import { computeHybridVectors, HYBRID_INPUTS } from './support/hybrid-vectors'

const doc = readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8')
const block = doc.slice(doc.indexOf('<!-- hybrid-test-vectors -->'))
const start = block.indexOf('```json') + 7
const published = JSON.parse(block.slice(start, block.indexOf('```', start))) as {
  serverKey: {
    x25519PublicKey: string
    mlKemPublicKeySha256: string
    fingerprint: string
    classicalFingerprint: string
  }
  handshake: {
    clientPublicKey: string
    cipherTextSha256: string
    transcriptHex: string
    fieldKeyHex: string
    confirmKeyHex: string
    clientProof: string
  }
  session: {
    sessionId: string
    ticketKeyHex: string
    ticket: string
    answer: Record<string, unknown> & { proof: string }
  }
}

const sha256 = (...parts: Uint8Array[]) => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}
const hmac = (key: Uint8Array, input: string) => createHmac('sha256', key).update(input).digest('base64url')
const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string) =>
  Buffer.from(hkdfSync('sha256', ikm, salt, info, 32))

/** An X25519 private key from its raw scalar (RFC 8410 PKCS#8). */
function x25519Private(scalar: Uint8Array) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), scalar])
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
}
const rawPublic = (key: ReturnType<typeof createPublicKey>) =>
  (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(12)

/** §1.2 and §1.3 from their text. */
function fromTheText() {
  const { seed, clientScalar, mlKemMessage, keyId, timestamp } = HYBRID_INPUTS
  const expanded = createHash('shake256', { outputLength: 96 }).update(seed).digest()
  const mlKem = ml_kem768.keygen(expanded.subarray(0, 64))
  const serverPrivate = x25519Private(expanded.subarray(64))
  const serverPublic = rawPublic(createPublicKey(serverPrivate))
  const clientPrivate = x25519Private(clientScalar)
  const clientPublic = rawPublic(createPublicKey(clientPrivate))
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(mlKem.publicKey, mlKemMessage)
  const ssX = diffieHellman({ privateKey: clientPrivate, publicKey: createPublicKey(serverPrivate) })
  const transcript = sha256(mlKem.publicKey, serverPublic, cipherText, clientPublic)
  const ikm = Buffer.concat([sharedSecret, ssX])
  const fieldKey = hkdf(ikm, transcript, `continuum-proxy cp2 hybrid field key|${keyId}`)
  const confirmKey = hkdf(ikm, transcript, `continuum-proxy cp2 hybrid confirm key|${keyId}`)
  return {
    mlKem,
    serverPublic,
    clientPublic,
    cipherText,
    sharedSecret,
    transcript,
    fieldKey,
    confirmKey,
    ticketKey: hkdf(seed, Buffer.alloc(0), 'continuum-proxy cp2 session ticket key'),
    clientProof: hmac(confirmKey, `cp2|session|client|${keyId}|${timestamp}`),
  }
}

describe('docs/PROTOCOL.md hybrid test vectors', () => {
  it('match the implementation', async () => {
    expect(await computeHybridVectors()).toEqual(published)
  })

  it('follow the key expansion, fingerprint and combiner of §1.2', () => {
    const text = fromTheText()
    expect(text.serverPublic.toString('base64url')).toBe(published.serverKey.x25519PublicKey)
    expect(sha256(text.mlKem.publicKey).toString('hex')).toBe(published.serverKey.mlKemPublicKeySha256)
    expect(`sha256:${sha256(text.mlKem.publicKey, text.serverPublic).toString('hex')}`).toBe(
      published.serverKey.fingerprint,
    )
    // The same key published with `classical: true`: the permission is part of the pin.
    const label = Buffer.from('continuum-proxy cp2 classical', 'utf8')
    expect(`sha256:${sha256(text.mlKem.publicKey, text.serverPublic, label).toString('hex')}`).toBe(
      published.serverKey.classicalFingerprint,
    )
    expect(text.clientPublic.toString('base64url')).toBe(published.handshake.clientPublicKey)
    expect(sha256(text.cipherText).toString('hex')).toBe(published.handshake.cipherTextSha256)
    expect(text.transcript.toString('hex')).toBe(published.handshake.transcriptHex)
    expect(text.fieldKey.toString('hex')).toBe(published.handshake.fieldKeyHex)
    expect(text.confirmKey.toString('hex')).toBe(published.handshake.confirmKeyHex)
    expect(text.clientProof).toBe(published.handshake.clientProof)
    // The server decapsulates the same secret with the expanded secret key.
    expect(Buffer.from(ml_kem768.decapsulate(text.cipherText, text.mlKem.secretKey))).toEqual(
      Buffer.from(text.sharedSecret),
    )
  })

  it('follow the session id, ticket layout and answer proof of §1.3', () => {
    const text = fromTheText()
    const { keyId, timestamp, ttlMs, maxRequests, ticketIv } = HYBRID_INPUTS
    expect(text.transcript.subarray(0, 16).toString('base64url')).toBe(published.session.sessionId)
    expect(text.ticketKey.toString('hex')).toBe(published.session.ticketKeyHex)
    const plaintext = Buffer.alloc(60)
    text.transcript.copy(plaintext, 0, 0, 16)
    plaintext.writeBigUInt64BE(BigInt(timestamp + ttlMs), 16)
    plaintext.writeUInt32BE(maxRequests, 24)
    text.fieldKey.copy(plaintext, 28)
    const cipher = createCipheriv('aes-256-gcm', text.ticketKey, ticketIv)
    cipher.setAAD(Buffer.from(`cp2|session-ticket|${keyId}`))
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const ticket = Buffer.concat([Buffer.of(1), ticketIv, sealed, cipher.getAuthTag()]).toString('base64url')
    expect(ticket).toBe(published.session.ticket)
    expect(ticket).toHaveLength(119)
    // Under another key id's AAD the ticket does not open.
    const bytes = Buffer.from(ticket, 'base64url')
    const decipher = createDecipheriv('aes-256-gcm', text.ticketKey, bytes.subarray(1, 13))
    decipher.setAAD(Buffer.from('cp2|session-ticket|pq2'))
    decipher.setAuthTag(bytes.subarray(-16))
    decipher.update(bytes.subarray(13, -16))
    expect(() => decipher.final()).toThrow()
    const { proof, ...answer } = published.session.answer
    expect(answer).toEqual({ keyId, session: ticket, expiresAt: timestamp + ttlMs, maxRequests })
    expect(hmac(text.confirmKey, `cp2|session|server|200|${canonicalize(answer)}`)).toBe(proof)
  })
})
