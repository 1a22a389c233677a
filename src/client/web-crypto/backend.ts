/**
 * The cryptographic primitives of the client, in two interchangeable backends. `webCryptoBackend`
 * runs on `globalThis.crypto.subtle` alone, so the client works in browsers, Deno, Bun and edge
 * workers. On Node, every SubtleCrypto call is a round trip through the libuv thread pool (about
 * 130-220 µs an operation, measured in bench/browser-client.bench.ts), so where the runtime
 * offers `process.getBuiltinModule('node:crypto')` (Node >= 22.3, Bun, Deno), the same
 * operations run synchronously on it instead. That lookup is a run-time property access, not an
 * import: a bundle for the browser never sees `node:crypto`.
 */

/** Opaque handles a backend makes from raw keys. */
export type AesKeyHandle = { readonly backend: string }
export type HmacKeyHandle = { readonly backend: string }

/** An ephemeral X25519 key pair that agrees once per peer key. */
export interface EphemeralKeyPair {
  readonly publicKey: Uint8Array
  /** The raw shared secret with a peer's raw public key; throws when the key is not usable. */
  agree(peerPublicKey: Uint8Array): Promise<Uint8Array>
}

/** What the client needs of a crypto library. Results may be immediate (Node) or promised (WebCrypto). */
export interface CryptoBackend {
  readonly name: 'webcrypto' | 'node'
  aesKey(raw: Uint8Array): Promise<AesKeyHandle>
  hmacKey(raw: Uint8Array): Promise<HmacKeyHandle>
  /** AES-256-GCM with a 16-byte tag: returns ciphertext || tag. */
  encrypt(
    key: AesKeyHandle,
    iv: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>
  /** Opens ciphertext || tag; throws when it does not authenticate. */
  decrypt(
    key: AesKeyHandle,
    iv: Uint8Array,
    aad: Uint8Array,
    sealed: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>
  /** HMAC-SHA256. */
  sign(key: HmacKeyHandle, data: Uint8Array): Uint8Array | Promise<Uint8Array>
  /** HMAC-SHA256 verification in constant time. */
  verify(key: HmacKeyHandle, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean>
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Promise<Uint8Array>
  sha256(data: Uint8Array): Promise<Uint8Array>
  ephemeralKeyPair(): Promise<EphemeralKeyPair>
}

// SubtleCrypto takes BufferSource; a Uint8Array over a SharedArrayBuffer is not one in the DOM types.
const source = (bytes: Uint8Array): BufferSource => bytes as Uint8Array<ArrayBuffer>

interface WebAesKey extends AesKeyHandle {
  readonly key: CryptoKey
}
interface WebHmacKey extends HmacKeyHandle {
  readonly key: CryptoKey
}

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle
  if (value === undefined)
    throw new TypeError('crypto.subtle is not available (a secure context is required)')
  return value
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
  async encrypt(key, iv, aad, plaintext) {
    const algorithm = { name: 'AES-GCM', iv: source(iv), additionalData: source(aad), tagLength: 128 }
    return new Uint8Array(await subtle().encrypt(algorithm, (key as WebAesKey).key, source(plaintext)))
  },
  async decrypt(key, iv, aad, sealed) {
    const algorithm = { name: 'AES-GCM', iv: source(iv), additionalData: source(aad), tagLength: 128 }
    return new Uint8Array(await subtle().decrypt(algorithm, (key as WebAesKey).key, source(sealed)))
  },
  async sign(key, data) {
    return new Uint8Array(await subtle().sign('HMAC', (key as WebHmacKey).key, source(data)))
  },
  verify(key, signature, data) {
    return subtle().verify('HMAC', (key as WebHmacKey).key, source(signature), source(data))
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
  createCipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeCipher
  createDecipheriv(
    algorithm: string,
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): NodeDecipher
  createHmac(algorithm: string, key: Uint8Array): { update(data: Uint8Array): { digest(): Uint8Array } }
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
}
interface NodeCipher {
  setAAD(aad: Uint8Array): void
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
  getAuthTag(): Uint8Array
}
interface NodeDecipher {
  setAAD(aad: Uint8Array): void
  setAuthTag(tag: Uint8Array): void
  update(data: Uint8Array): Uint8Array
  final(): Uint8Array
}
interface RawKey extends AesKeyHandle, HmacKeyHandle {
  readonly raw: Uint8Array
}

function concat(first: Uint8Array, second: Uint8Array, third?: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length + (third?.length ?? 0))
  joined.set(first)
  joined.set(second, first.length)
  if (third !== undefined) joined.set(third, first.length + second.length)
  return joined
}

/**
 * The synchronous primitives on node:crypto; key derivation, digests and X25519 stay on
 * SubtleCrypto, which Node has too (they run once per key, not per message).
 */
export function nodeBackend(crypto: NodeCrypto): CryptoBackend {
  const tagLength = 16
  return {
    ...webCryptoBackend,
    name: 'node',
    async aesKey(raw) {
      return { backend: 'node', raw: raw.slice() } as RawKey
    },
    async hmacKey(raw) {
      return { backend: 'node', raw: raw.slice() } as RawKey
    },
    encrypt(key, iv, aad, plaintext) {
      const cipher = crypto.createCipheriv('aes-256-gcm', (key as RawKey).raw, iv, {
        authTagLength: tagLength,
      })
      cipher.setAAD(aad)
      return concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag())
    },
    decrypt(key, iv, aad, sealed) {
      if (sealed.length < tagLength) throw new TypeError('AES-GCM input shorter than its tag')
      const decipher = crypto.createDecipheriv('aes-256-gcm', (key as RawKey).raw, iv, {
        authTagLength: tagLength,
      })
      decipher.setAAD(aad)
      decipher.setAuthTag(sealed.subarray(sealed.length - tagLength))
      return concat(decipher.update(sealed.subarray(0, sealed.length - tagLength)), decipher.final())
    },
    sign(key, data) {
      return crypto
        .createHmac('sha256', (key as RawKey).raw)
        .update(data)
        .digest()
    },
    verify(key, signature, data) {
      const expected = crypto
        .createHmac('sha256', (key as RawKey).raw)
        .update(data)
        .digest()
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
  selected = crypto?.createCipheriv === undefined ? webCryptoBackend : nodeBackend(crypto)
  return selected
}
