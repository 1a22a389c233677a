/**
 * Byte codecs without `Buffer`: UTF-8, strict base64url (one spelling per byte string, as the
 * protocol requires of ciphertexts and seals), hex, and fresh random bytes from
 * `crypto.getRandomValues`. Everything the browser client encodes goes through these.
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

/** Decodes UTF-8; throws a TypeError on invalid bytes. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/** base64url without padding. */
export function toBase64url(bytes: Uint8Array): string {
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
