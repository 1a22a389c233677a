/**
 * Computes the hybrid agreement's test vectors of docs/PROTOCOL.md (§1.2, §1.3) from fixed inputs
 * with the implementation, so the docs test can check the published values and another
 * implementation can check itself against them. Real seeds, ephemeral keys, ML-KEM messages and
 * ticket IVs are random; here they are fixed.
 */
import { createHash } from 'node:crypto'
import { loadAgreementPrivateKey } from '../../src/cipher'
import {
  clientProof,
  decapsulateHybrid,
  encapsulateHybrid,
  expandHybridSeed,
  parseHybridKey,
  publishHybridKey,
  serverProof,
} from '../../src/cipher/hybrid-agreement'
import { deriveTicketKey, SESSION_ID_LENGTH, sealTicket } from '../../src/cipher/session-ticket'
import { loadMlKem768 } from '../../src/internal/post-quantum'

export const hexBytes = (length: number, start: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, index) => (start + index) & 0xff))

/** The fixed inputs, as §9 lists them. */
export const HYBRID_INPUTS = {
  keyId: 'pq1',
  seed: hexBytes(32, 0x80),
  clientScalar: hexBytes(32, 0x60),
  mlKemMessage: hexBytes(32, 0xc0),
  timestamp: 1_700_000_000_000,
  ttlMs: 3_600_000,
  maxRequests: 10_000,
  ticketIv: hexBytes(12, 0x10),
} as const

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

export async function computeHybridVectors(): Promise<Record<string, unknown>> {
  const input = HYBRID_INPUTS
  const mlKem = await loadMlKem768()
  const pair = expandHybridSeed(input.seed, mlKem)
  const published = publishHybridKey(input.keyId, pair, false)
  const server = parseHybridKey(published as unknown as Record<string, unknown>, input.keyId)
  const ephemeral = loadAgreementPrivateKey(input.clientScalar.toString('base64url'))
  const { cipherText, secrets } = encapsulateHybrid(server, mlKem, ephemeral, input.mlKemMessage)
  const decapsulated = decapsulateHybrid(
    input.keyId,
    pair,
    ephemeral.publicKeyBytes.toString('base64url'),
    cipherText,
  )
  if (!decapsulated.fieldKey.aesKey.equals(secrets.fieldKey.aesKey)) throw new Error('the two sides disagree')
  const sessionId = secrets.transcript.subarray(0, SESSION_ID_LENGTH).toString('base64url')
  const expiresAt = input.timestamp + input.ttlMs
  const ticketKey = deriveTicketKey(input.seed)
  const ticket = sealTicket(
    ticketKey,
    { sessionId, expiresAt, maxRequests: input.maxRequests, key: secrets.fieldKey },
    input.ticketIv,
  )
  const answer = { keyId: input.keyId, session: ticket, expiresAt, maxRequests: input.maxRequests }
  return {
    inputs: {
      keyId: input.keyId,
      seedHex: input.seed.toString('hex'),
      clientScalarHex: input.clientScalar.toString('hex'),
      mlKemMessageHex: input.mlKemMessage.toString('hex'),
      timestamp: input.timestamp,
      ticketIvHex: input.ticketIv.toString('hex'),
    },
    serverKey: {
      x25519PublicKey: published.publicKey,
      mlKemPublicKeySha256: sha256(pair.mlKemPublicKey),
      fingerprint: published.fingerprint,
      classicalFingerprint: publishHybridKey(input.keyId, pair, true).fingerprint,
    },
    handshake: {
      clientPublicKey: ephemeral.publicKeyBytes.toString('base64url'),
      cipherTextSha256: sha256(cipherText),
      transcriptHex: secrets.transcript.toString('hex'),
      fieldKeyHex: secrets.fieldKey.aesKey.toString('hex'),
      confirmKeyHex: secrets.confirmKey.toString('hex'),
      clientProof: clientProof(secrets.confirmKey, input.keyId, input.timestamp),
    },
    session: {
      sessionId,
      ticketKeyHex: ticketKey.toString('hex'),
      ticket,
      answer: { ...answer, proof: serverProof(secrets.confirmKey, 200, answer) },
    },
  }
}
