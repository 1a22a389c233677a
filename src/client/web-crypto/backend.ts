/**
 * The cryptographic primitives of the client, in two interchangeable backends. `webCryptoBackend`
 * runs on `globalThis.crypto.subtle` alone, so the client works in browsers, Deno, Bun and edge
 * workers. On Node, every SubtleCrypto call is a round trip through the libuv thread pool (about
 * 130-220 µs an operation, measured in bench/browser-client.bench.ts), so where the runtime
 * offers `process.getBuiltinModule('node:crypto')` (Node >= 22.3, Bun, Deno), the same
 * operations run synchronously on it instead. That lookup is a run-time property access, not an
 * import: a bundle for the browser never sees `node:crypto`.
 */
import { isAscii } from './bytes'

/** Opaque handles a backend makes from raw keys. */
export type AesKeyHandle = { readonly backend: string }
export type HmacKeyHandle = { readonly backend: string }

/** An ephemeral X25519 key pair that agrees once per peer key. */
export interface EphemeralKeyPair {
  readonly publicKey: Uint8Array
  /** The raw shared secret with a peer's raw public key; throws when the key is not usable. */
  agree(peerPublicKey: Uint8Array): Promise<Uint8Array>
}

/** A result that is immediate on a synchronous backend (Node) and promised on WebCrypto. */
export type MaybePromise<T> = T | Promise<T>

/**
 * What the client needs of a crypto library. The per-message primitives may answer at once
 * (node:crypto) or through a promise (WebCrypto); callers keep an immediate answer immediate, so
 * a synchronous backend costs no promise per field. Text inputs are UTF-8.
 */
export interface CryptoBackend {
  readonly name: 'webcrypto' | 'node'
  aesKey(raw: Uint8Array): Promise<AesKeyHandle>
  hmacKey(raw: Uint8Array): Promise<HmacKeyHandle>
  /** AES-256-GCM with a 16-byte tag: returns `ciphertext || tag` (the field payload less its IV). */
  seal(key: AesKeyHandle, iv: Uint8Array, aad: string, plaintext: string): MaybePromise<Uint8Array>
  /** Opens `iv || ciphertext || tag` (at least 28 bytes); throws when it does not authenticate. */
  open(key: AesKeyHandle, payload: Uint8Array, aad: string): MaybePromise<Uint8Array>
  /** HMAC-SHA256 of the concatenation of `parts`. */
  sign(key: HmacKeyHandle, parts: readonly string[]): MaybePromise<Uint8Array>
  /** HMAC-SHA256 verification of the concatenation of `parts`, in constant time. */
  verify(key: HmacKeyHandle, signature: Uint8Array, parts: readonly string[]): MaybePromise<boolean>
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Promise<Uint8Array>
  sha256(data: Uint8Array): Promise<Uint8Array>
  ephemeralKeyPair(): Promise<EphemeralKeyPair>
}

const IV_LENGTH = 12
const TAG_LENGTH = 16
const encoder = new TextEncoder()

// SubtleCrypto takes BufferSource; a Uint8Array over a SharedArrayBuffer is not one in the DOM types.
const source = (bytes: Uint8Array): BufferSource => bytes as Uint8Array<ArrayBuffer>

interface WebAesKey extends AesKeyHandle {
  readonly key: CryptoKey
}
interface WebHmacKey extends HmacKeyHandle {
  readonly key: CryptoKey
}

let subtleCrypto: SubtleCrypto | undefined

/** `crypto.subtle`, looked up once: in a browser each lookup is a trip through the bindings. */
function subtle(): SubtleCrypto {
  if (subtleCrypto !== undefined) return subtleCrypto
  const value = globalThis.crypto?.subtle
  if (value === undefined)
    throw new TypeError('crypto.subtle is not available (a secure context is required)')
  subtleCrypto = value
  return value
}

/**
 * UTF-8 scratch space for WebCrypto's inputs. SubtleCrypto copies its inputs when it is called
 * (WebCrypto: "get a copy of the bytes held by" each argument), so one buffer serves every call,
 * and `encodeInto` it costs a fraction of `encode`, which allocates a buffer a call (in Chromium
 * about 4x as much for a 2 KB string).
 */
let scratch = new Uint8Array(16_384)

/** The UTF-8 of `texts`, back to back in the scratch buffer, as views valid until the next call. */
function encodeAll(texts: readonly string[]): Uint8Array<ArrayBuffer>[] {
  let needed = 0
  // Three bytes per UTF-16 unit bounds UTF-8 (a surrogate pair is two units and four bytes).
  for (const text of texts) needed += text.length * 3
  if (needed > scratch.length) scratch = new Uint8Array(Math.max(needed, scratch.length * 2))
  const views: Uint8Array<ArrayBuffer>[] = []
  let offset = 0
  for (const text of texts) {
    const target = scratch.subarray(offset)
    const written = encoder.encodeInto(text, target).written
    views.push(target.subarray(0, written))
    offset += written
  }
  return views
}

/**
 * The UTF-8 of the concatenation of `parts`, in the scratch buffer: one `encodeInto` of the joined
 * text, since in a browser each call costs a trip through the bindings and a result object.
 */
function encodeJoined(parts: readonly string[]): Uint8Array<ArrayBuffer> {
  const text = parts.length === 1 ? parts[0]! : parts.join('')
  if (text.length * 3 > scratch.length)
    scratch = new Uint8Array(Math.max(text.length * 3, scratch.length * 2))
  return scratch.subarray(0, encoder.encodeInto(text, scratch).written)
}

/**
 * The UTF-8 of an ASCII `head` and of `body`, back to back in the scratch buffer, by one
 * `encodeInto` (see {@link encodeJoined}); two calls when `head` is not ASCII.
 */
function encodeHeadAndBody(head: string, body: string): [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>] {
  if (!isAscii(head)) return encodeAll([head, body]) as [Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>]
  const joined = encodeJoined([head, body])
  return [joined.subarray(0, head.length), joined.subarray(head.length)]
}

/** The primitives on `globalThis.crypto.subtle`. */
export const webCryptoBackend: CryptoBackend = {
  name: 'webcrypto',
  async aesKey(raw) {
    const key = await subtle().importKey('raw', source(raw), 'AES-GCM', false, ['encrypt', 'decrypt'])
    return { backend: 'webcrypto', key } as WebAesKey
  },
  async hmacKey(raw) {
    const algorithm = { name: 'HMAC', hash: 'SHA-256' }
    const key = await subtle().importKey('raw', source(raw), algorithm, false, ['sign', 'verify'])
    return { backend: 'webcrypto', key } as WebHmacKey
  },
  async seal(key, iv, aad, plaintext) {
    const [aadBytes, plainBytes] = encodeHeadAndBody(aad, plaintext)
    // The tag is AES-GCM's default 128 bits, so the dictionary names no tagLength.
    const algorithm = { name: 'AES-GCM', iv: source(iv), additionalData: aadBytes }
    return new Uint8Array(await subtle().encrypt(algorithm, (key as WebAesKey).key, plainBytes!))
  },
  async open(key, payload, aad) {
    const algorithm = {
      name: 'AES-GCM',
      iv: source(payload.subarray(0, IV_LENGTH)),
      additionalData: encodeJoined([aad]),
    }
    const sealed = source(payload.subarray(IV_LENGTH))
    return new Uint8Array(await subtle().decrypt(algorithm, (key as WebAesKey).key, sealed))
  },
  async sign(key, parts) {
    return new Uint8Array(await subtle().sign('HMAC', (key as WebHmacKey).key, encodeJoined(parts)))
  },
  verify(key, signature, parts) {
    return subtle().verify('HMAC', (key as WebHmacKey).key, source(signature), encodeJoined(parts))
  },
  async hkdf(ikm, salt, info, length) {
    const base = await subtle().importKey('raw', source(ikm), 'HKDF', false, ['deriveBits'])
    const algorithm = {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: source(salt),
      info: new TextEncoder().encode(info),
    }
    return new Uint8Array(await subtle().deriveBits(algorithm, base, length * 8))
  },
  async sha256(data) {
    return new Uint8Array(await subtle().digest('SHA-256', source(data)))
  },
  async ephemeralKeyPair() {
    const pair = (await subtle().generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair
    const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey))
    return {
      publicKey,
      async agree(peer) {
        const peerKey = await subtle().importKey('raw', source(peer), { name: 'X25519' }, false, [])
        const bits = await subtle().deriveBits({ name: 'X25519', public: peerKey }, pair.privateKey, 256)
        return new Uint8Array(bits)
      },
    }
  },
}

/** The part of node:crypto the Node backend uses, typed here so no Node type is imported. */
interface NodeCrypto {
  createSecretKey(raw: Uint8Array): NodeKeyObject
  createCipheriv(
    algorithm: string,
    key: NodeKeyObject,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeCipher
  createDecipheriv(
    algorithm: string,
    key: NodeKeyObject,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeDecipher
  createHmac(algorithm: string, key: NodeKeyObject): NodeHmac
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
}
/** A node:crypto KeyObject: opaque here. */
type NodeKeyObject = { readonly type: string }
interface NodeCipher {
  setAAD(aad: Uint8Array): void
  update(data: string, encoding: 'utf8'): Uint8Array
  final(): Uint8Array
  getAuthTag(): Uint8Array
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): void
  setAuthTag(tag: Uint8Array): void
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}
interface NodeHmac {
  update(data: string, encoding: 'utf8'): NodeHmac
  digest(): Uint8Array
}
/** A key as a KeyObject made once: node:crypto sets a cipher or an HMAC up faster from one than from bytes. */
interface NodeKey extends AesKeyHandle, HmacKeyHandle {
  readonly key: NodeKeyObject
}

/**
 * The synchronous primitives on node:crypto; key derivation, digests and X25519 stay on
 * SubtleCrypto, which Node has too (they run once per key, not per message).
 */
export function nodeBackend(crypto: NodeCrypto): CryptoBackend {
  const gcm = { authTagLength: TAG_LENGTH }
  const digest = (key: HmacKeyHandle, parts: readonly string[]): Uint8Array => {
    const hmac = crypto.createHmac('sha256', (key as NodeKey).key)
    for (const part of parts) hmac.update(part, 'utf8')
    return hmac.digest()
  }
  return {
    ...webCryptoBackend,
    name: 'node',
    async aesKey(raw) {
      return { backend: 'node', key: crypto.createSecretKey(raw.slice()) } as NodeKey
    },
    async hmacKey(raw) {
      return { backend: 'node', key: crypto.createSecretKey(raw.slice()) } as NodeKey
    },
    seal(key, iv, aad, plaintext) {
      const cipher = crypto.createCipheriv('aes-256-gcm', (key as NodeKey).key, iv, gcm)
      cipher.setAAD(encoder.encode(aad))
      const body = cipher.update(plaintext, 'utf8')
      cipher.final()
      const sealed = new Uint8Array(body.length + TAG_LENGTH)
      sealed.set(body)
      sealed.set(cipher.getAuthTag(), body.length)
      return sealed
    },
    open(key, payload, aad) {
      if (payload.length < IV_LENGTH + TAG_LENGTH)
        throw new TypeError('AES-GCM input shorter than its IV and tag')
      const decipher = crypto.createDecipheriv(
        'aes-256-gcm',
        (key as NodeKey).key,
        payload.subarray(0, IV_LENGTH),
        gcm,
      )
      decipher.setAAD(encoder.encode(aad))
      decipher.setAuthTag(payload.subarray(payload.length - TAG_LENGTH))
      const body = decipher.update(payload.subarray(IV_LENGTH, payload.length - TAG_LENGTH))
      decipher.final()
      return body
    },
    sign: digest,
    verify(key, signature, parts) {
      const expected = digest(key, parts)
      return signature.length === expected.length && crypto.timingSafeEqual(signature, expected)
    },
  }
}

let selected: CryptoBackend | undefined

/** The backend of this runtime: node:crypto where the runtime exposes it, WebCrypto everywhere else. */
export function defaultBackend(): CryptoBackend {
  if (selected !== undefined) return selected
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const crypto = runtime?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined
  selected =
    crypto?.createCipheriv === undefined || crypto.createSecretKey === undefined
      ? webCryptoBackend
      : nodeBackend(crypto)
  return selected
}
