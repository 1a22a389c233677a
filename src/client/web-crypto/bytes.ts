/**
 * Byte codecs without importing `Buffer`: UTF-8, strict base64url (one spelling per byte string,
 * as the protocol requires of ciphertexts and seals), hex, and fresh random bytes from
 * `crypto.getRandomValues`. Everything the browser client encodes goes through these. Base64url
 * runs on the runtime's native codec where there is one (`Uint8Array.prototype.toBase64` in
 * current browsers, `Buffer` reached through `process.getBuiltinModule` on Node, Bun and Deno):
 * a string loop costs more than the AES-GCM of the same bytes. Decoding checks the one canonical
 * spelling itself either way, since both native decoders are lenient.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const LOOKUP = new Int16Array(128).fill(-1)
for (let index = 0; index < ALPHABET.length; index++) LOOKUP[ALPHABET.charCodeAt(index)] = index

/** The UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
const ASCII = /^[\x00-\x7f]*$/

/** Whether a string is ASCII, so its UTF-8 is one byte a code unit. */
export function isAscii(text: string): boolean {
  return ASCII.test(text)
}

/** Decodes UTF-8; throws a TypeError on invalid bytes. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/**
 * A native base64url codec. `decode` may be lenient (skip whitespace, take padding, ignore the
 * bits past the last byte, even another alphabet): `strictAlphabet` says whether it refuses
 * every character outside the base64url alphabet but whitespace and `=`, which then show as a
 * shorter result; fromBase64url checks the rest.
 */
interface NativeBase64 {
  encode(bytes: Uint8Array): string
  decode(text: string): Uint8Array<ArrayBuffer>
  strictAlphabet: boolean
}

interface NodeBuffer {
  from(bytes: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64url'): string }
  from(text: string, encoding: 'base64url'): Uint8Array
}

function nativeBase64(): NativeBase64 | undefined {
  const web = Uint8Array as unknown as {
    prototype: { toBase64?: unknown }
    fromBase64?: (text: string, options: { alphabet: 'base64url' }) => Uint8Array<ArrayBuffer>
  }
  if (typeof web.prototype.toBase64 === 'function' && typeof web.fromBase64 === 'function') {
    const fromBase64 = web.fromBase64
    const options = { alphabet: 'base64url', omitPadding: true } as const
    return {
      encode: (bytes) => (bytes as unknown as { toBase64(options: object): string }).toBase64(options),
      // Throws a SyntaxError on any other character (caught by fromBase64url).
      decode: (text) => fromBase64(text, { alphabet: 'base64url' }),
      strictAlphabet: true,
    }
  }
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const buffer = (runtime?.getBuiltinModule?.('node:buffer') as { Buffer?: NodeBuffer } | undefined)?.Buffer
  if (buffer === undefined) return undefined
  return {
    encode: (bytes) => buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url'),
    decode: (text) => {
      const decoded = buffer.from(text, 'base64url')
      return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength) as Uint8Array<ArrayBuffer>
    },
    // Buffer takes `+` and `/` too, and skips what it cannot read.
    strictAlphabet: false,
  }
}

const native = nativeBase64()
const BASE64URL = /^[A-Za-z0-9_-]*$/

/** base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
  return native === undefined ? toBase64urlLoop(bytes) : native.encode(bytes)
}

/** base64url in plain JavaScript, for runtimes without a native codec. */
function toBase64urlLoop(bytes: Uint8Array): string {
  let text = ''
  let index = 0
  for (; index + 2 < bytes.length; index += 3) {
    const triple = (bytes[index]! << 16) | (bytes[index + 1]! << 8) | bytes[index + 2]!
    text +=
      ALPHABET[triple >> 18]! +
      ALPHABET[(triple >> 12) & 63]! +
      ALPHABET[(triple >> 6) & 63]! +
      ALPHABET[triple & 63]!
  }
  const rest = bytes.length - index
  if (rest === 1) {
    const value = bytes[index]!
    text += ALPHABET[value >> 2]! + ALPHABET[(value & 3) << 4]!
  } else if (rest === 2) {
    const value = (bytes[index]! << 8) | bytes[index + 1]!
    text += ALPHABET[value >> 10]! + ALPHABET[(value >> 4) & 63]! + ALPHABET[(value & 15) << 2]!
  }
  return text
}

/**
 * Decodes unpadded base64url, or undefined when the text is not its one canonical spelling (a
 * character outside the alphabet, an impossible length, or unused trailing bits set).
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (native === undefined) return fromBase64urlLoop(text)
  const rest = text.length % 4
  if (rest === 1) return undefined
  // The bits of the last character past the last whole byte must be zero (one spelling only).
  const last = text.length === 0 ? 0 : text.charCodeAt(text.length - 1)
  if (rest !== 0 && (last >= 128 || (LOOKUP[last]! & (rest === 2 ? 0b1111 : 0b11)) !== 0)) return undefined
  if (!native.strictAlphabet && !BASE64URL.test(text)) return undefined
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = native.decode(text)
  } catch {
    return undefined
  }
  // Skipped whitespace or padding leaves fewer bytes than the length promises.
  return bytes.length === Math.floor((text.length * 3) / 4) ? bytes : undefined
}

function fromBase64urlLoop(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4))
  let buffer = 0
  let bits = 0
  let out = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    const value = code < 128 ? LOOKUP[code]! : -1
    if (value === -1) return undefined
    buffer = ((buffer << 6) | value) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      bytes[out++] = (buffer >> bits) & 0xff
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined
  return bytes
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += byte.toString(16).padStart(2, '0')
  return text
}

/** Decodes an even-length hex string (validated by the caller). */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(text.length / 2)
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16)
  }
  return bytes
}

/** The concatenation of byte strings. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0))
  let offset = 0
  for (const part of parts) {
    joined.set(part, offset)
    offset += part.length
  }
  return joined
}

/** `length` bytes from the platform CSPRNG. */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length))
}

const POOL_SIZE = 4096
const pool = new Uint8Array(POOL_SIZE)
let poolOffset = POOL_SIZE

/**
 * `length` (at most 4,096) fresh random bytes, copied out of a pooled CSPRNG buffer: a call to
 * the generator per 12-byte IV costs more than the AES-GCM of the field. Each byte of the pool is
 * handed out once, and the pool is refilled, never reread; the copy stays the caller's however
 * late an asynchronous cipher reads it.
 */
export function pooledRandomBytes(length: number): Uint8Array<ArrayBuffer> {
  if (poolOffset + length > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool)
    poolOffset = 0
  }
  const bytes = pool.slice(poolOffset, poolOffset + length)
  poolOffset += length
  return bytes
}
