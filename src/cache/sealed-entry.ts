/**
 * Entries at rest: a cached response is serialised (status, headers, chunk boundaries, body
 * bytes) and encrypted with AES-256-GCM under a key derived for that entry alone (HKDF of the
 * cache's entry secret, salted with the cache key), with the cache key as additional data. A
 * heap dump or a shared store therefore shows ciphertext only, and an entry moved under another
 * key fails to open instead of answering the wrong request.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** A response as replayed from the cache. */
export interface CachedResponse {
  status: number
  headers: Record<string, string>
  /** The body in the chunks it arrived in, so a stream is replayed as a stream. */
  chunks: Buffer[]
  /** When it was stored, in clock milliseconds. */
  storedAt: number
}

const VERSION = 1
const IV_LENGTH = 12
const TAG_LENGTH = 16
const HEADER_LENGTH = 1 + IV_LENGTH + TAG_LENGTH

interface EntryMeta {
  status: number
  headers: Record<string, string>
  chunks: number[]
  storedAt: number
}

function entryKey(entrySecret: Buffer, cacheKey: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', entrySecret, Buffer.from(cacheKey, 'hex'), 'continuum-proxy cache entry', 32),
  )
}

/** Encrypts one response for storage under `cacheKey` (hex). */
export function sealEntry(entrySecret: Buffer, cacheKey: string, entry: CachedResponse): Buffer {
  const meta: EntryMeta = {
    status: entry.status,
    headers: entry.headers,
    chunks: entry.chunks.map((chunk) => chunk.byteLength),
    storedAt: entry.storedAt,
  }
  const metaBytes = Buffer.from(JSON.stringify(meta))
  const metaLength = Buffer.alloc(4)
  metaLength.writeUInt32BE(metaBytes.byteLength)
  const iv = randomBytes(IV_LENGTH)
  const cipher = createCipheriv('aes-256-gcm', entryKey(entrySecret, cacheKey), iv)
  cipher.setAAD(Buffer.from(cacheKey))
  const parts = [cipher.update(metaLength), cipher.update(metaBytes)]
  for (const chunk of entry.chunks) parts.push(cipher.update(chunk))
  parts.push(cipher.final())
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ...parts])
}

/** Decrypts an entry stored under `cacheKey`; throws when it was altered or stored under another key. */
export function openEntry(entrySecret: Buffer, cacheKey: string, sealed: Buffer): CachedResponse {
  if (sealed.byteLength < HEADER_LENGTH + 4 || sealed[0] !== VERSION) throw new Error('malformed cache entry')
  const iv = sealed.subarray(1, 1 + IV_LENGTH)
  const tag = sealed.subarray(1 + IV_LENGTH, HEADER_LENGTH)
  const decipher = createDecipheriv('aes-256-gcm', entryKey(entrySecret, cacheKey), iv)
  decipher.setAAD(Buffer.from(cacheKey))
  decipher.setAuthTag(tag)
  const plain = Buffer.concat([decipher.update(sealed.subarray(HEADER_LENGTH)), decipher.final()])
  const metaLength = plain.readUInt32BE(0)
  const meta = JSON.parse(plain.subarray(4, 4 + metaLength).toString('utf8')) as EntryMeta
  const chunks: Buffer[] = []
  let offset = 4 + metaLength
  for (const length of meta.chunks) {
    chunks.push(plain.subarray(offset, offset + length))
    offset += length
  }
  return { status: meta.status, headers: meta.headers, chunks, storedAt: meta.storedAt }
}
