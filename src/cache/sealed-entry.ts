/**
 * Entries at rest: a cached response (status, headers, and its body as a JSON object or as the
 * list of its stream events) is serialised and encrypted with AES-256-GCM under a key derived for
 * that entry alone (HKDF of the cache's entry secret, salted with the cache key), with the cache
 * key as additional data. A heap dump or a shared store therefore shows ciphertext only, and an
 * entry moved under another key fails to open instead of answering the wrong request.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import type { StreamEvent } from '../protocol/stream-event'

/** A response as stored and replayed: the plain objects, re-encrypted for each requester. */
export interface CachedResponse {
  status: number
  headers: Record<string, string>
  body: { type: 'json'; value: Record<string, unknown> } | { type: 'events'; events: StreamEvent[] }
  /** When it was stored, in clock milliseconds. */
  storedAt: number
}

const VERSION = 2
const IV_LENGTH = 12
const TAG_LENGTH = 16
const HEADER_LENGTH = 1 + IV_LENGTH + TAG_LENGTH

function entryKey(entrySecret: Buffer, cacheKey: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', entrySecret, Buffer.from(cacheKey, 'hex'), 'continuum-proxy cache entry', 32),
  )
}

/** Encrypts one response for storage under `cacheKey` (hex). */
export function sealEntry(entrySecret: Buffer, cacheKey: string, entry: CachedResponse): Buffer {
  const plain = Buffer.from(JSON.stringify(entry))
  const iv = randomBytes(IV_LENGTH)
  const cipher = createCipheriv('aes-256-gcm', entryKey(entrySecret, cacheKey), iv)
  cipher.setAAD(Buffer.from(cacheKey))
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext])
}

/** Decrypts an entry stored under `cacheKey`; throws when it was altered or stored under another key. */
export function openEntry(entrySecret: Buffer, cacheKey: string, sealed: Buffer): CachedResponse {
  if (sealed.byteLength < HEADER_LENGTH || sealed[0] !== VERSION) throw new Error('malformed cache entry')
  const iv = sealed.subarray(1, 1 + IV_LENGTH)
  const tag = sealed.subarray(1 + IV_LENGTH, HEADER_LENGTH)
  const decipher = createDecipheriv('aes-256-gcm', entryKey(entrySecret, cacheKey), iv)
  decipher.setAAD(Buffer.from(cacheKey))
  decipher.setAuthTag(tag)
  const plain = Buffer.concat([decipher.update(sealed.subarray(HEADER_LENGTH)), decipher.final()])
  return JSON.parse(plain.toString('utf8')) as CachedResponse
}
