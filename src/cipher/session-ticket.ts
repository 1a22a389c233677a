/**
 * Session tickets of the hybrid agreement (docs/PROTOCOL.md §1.3): after one handshake the server
 * hands the client a ticket, and every request of the session carries it (119 characters) instead
 * of a 1.5 KB encapsulation. The ticket is the session key sealed with AES-256-GCM under a ticket
 * key derived from the hybrid key's seed, so every instance holding that key opens it, and no
 * instance and no store ever has to remember session keys: Redis holds only use counts. Retiring
 * the hybrid key ends its sessions with it. Symmetric keys of 256 bits stay safe against quantum
 * search, so the ticket keeps the handshake's protection.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { ContinuumError } from '../errors'
import { createFieldKey, type FieldKey } from './field-key'
import { IV_LENGTH, TAG_LENGTH } from './format'

const TICKET_KEY_INFO = 'continuum-proxy cp2 session ticket key'
const TICKET_VERSION = 1
/** Bytes of a session id. */
export const SESSION_ID_LENGTH = 16
const PLAINTEXT_LENGTH = SESSION_ID_LENGTH + 8 + 4 + 32
const TICKET_LENGTH = 1 + IV_LENGTH + PLAINTEXT_LENGTH + TAG_LENGTH
/** Characters of a ticket in base64url. */
export const TICKET_TEXT_LENGTH = Math.ceil((TICKET_LENGTH * 4) / 3)

/** What a ticket carries. */
export interface SessionTicket {
  /** base64url of the 16-byte session id (the first bytes of the handshake transcript). */
  readonly sessionId: string
  /** When the session ends, epoch milliseconds (the handshake time plus its lifetime). */
  readonly expiresAt: number
  /** Requests the session may carry. */
  readonly maxRequests: number
  /** The session's field key. */
  readonly key: FieldKey
}

/** The ticket key of a hybrid key: HKDF-SHA256(seed, salt empty, info "continuum-proxy cp2 session ticket key"). */
export function deriveTicketKey(seed: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), TICKET_KEY_INFO, 32))
}

function aad(keyId: string): Buffer {
  return Buffer.from(`cp2|session-ticket|${keyId}`, 'utf8')
}

/** Seals a ticket: base64url(0x01 || iv || AES-256-GCM(ticketKey, iv, id || expiresAt || maxRequests || key) || tag). */
export function sealTicket(
  ticketKey: Uint8Array,
  session: SessionTicket,
  iv: Uint8Array = randomBytes(IV_LENGTH),
): string {
  const plaintext = Buffer.alloc(PLAINTEXT_LENGTH)
  const id = Buffer.from(session.sessionId, 'base64url')
  if (id.length !== SESSION_ID_LENGTH) throw new Error('session ids are 16 bytes')
  id.copy(plaintext, 0)
  plaintext.writeBigUInt64BE(BigInt(session.expiresAt), SESSION_ID_LENGTH)
  plaintext.writeUInt32BE(session.maxRequests, SESSION_ID_LENGTH + 8)
  session.key.aesKey.copy(plaintext, SESSION_ID_LENGTH + 12)
  const cipher = createCipheriv('aes-256-gcm', ticketKey, iv)
  cipher.setAAD(aad(session.key.id))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([Buffer.of(TICKET_VERSION), iv, body, cipher.getAuthTag()]).toString('base64url')
}

function invalid(): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_SESSION_INVALID',
    'The session ticket is malformed, forged or from another key',
  )
}

/** Whether a header value has a ticket's shape (an X25519 key has 43 characters). */
export function looksLikeTicket(value: string): boolean {
  return value.length === TICKET_TEXT_LENGTH
}

/** Opens a ticket sealed for `keyId`, or throws CONTINUUM_SESSION_INVALID. */
export function openTicket(ticketKey: Uint8Array, keyId: string, ticket: string): SessionTicket {
  const bytes = Buffer.from(ticket, 'base64url')
  if (
    bytes.length !== TICKET_LENGTH ||
    bytes.toString('base64url') !== ticket ||
    bytes[0] !== TICKET_VERSION
  ) {
    throw invalid()
  }
  const iv = bytes.subarray(1, 1 + IV_LENGTH)
  const tag = bytes.subarray(bytes.length - TAG_LENGTH)
  let plaintext: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', ticketKey, iv)
    decipher.setAAD(aad(keyId))
    decipher.setAuthTag(tag)
    plaintext = Buffer.concat([
      decipher.update(bytes.subarray(1 + IV_LENGTH, bytes.length - TAG_LENGTH)),
      decipher.final(),
    ])
  } catch {
    throw invalid()
  }
  return {
    sessionId: plaintext.subarray(0, SESSION_ID_LENGTH).toString('base64url'),
    expiresAt: Number(plaintext.readBigUInt64BE(SESSION_ID_LENGTH)),
    maxRequests: plaintext.readUInt32BE(SESSION_ID_LENGTH + 8),
    key: createFieldKey(keyId, plaintext.subarray(SESSION_ID_LENGTH + 12)),
  }
}
