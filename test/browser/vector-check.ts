/**
 * Checks the client's cipher against the shared vector file (test/fixtures/protocol-vectors.json)
 * on a given crypto backend, in whichever runtime loads it: Node (test/browser/vectors.test.ts,
 * both backends) or Chromium (test/browser/chromium.test.ts, WebCrypto). It uses only what the
 * browser bundle has: the client's web-crypto layer, its stream opener and the adapters' routes.
 * Ciphertexts are checked byte for byte by re-encrypting each decrypted field under the IV it
 * carries. Returns every mismatch (empty when all agree) and how many checks ran.
 */
import { builtinAdapters } from '../../adapters/index'
import {
  bindRequest,
  canonicalQuery,
  sealedHeaderBlock,
  sealedHeaderList,
} from '../../src/cipher/request-binding'
import { openStream } from '../../src/client/stream-opener'
import {
  agreeFieldKey,
  type ClientCipherContext,
  type CryptoBackend,
  computeSeal,
  decryptFields,
  decryptValue,
  deriveFieldKey,
  encryptValue,
  fromBase64url,
  fromHex,
  openResponse,
  sealMatches,
  toBase64url,
  toHex,
  verifyEndMarker,
  webCryptoBackend,
} from '../../src/client/web-crypto/index'
import { canonicalJson } from '../../src/internal/canonical-json'
import { AdapterRegistry } from '../../src/protocol/registry'

type Json = Record<string, any>

/** What a run of the vectors found. */
export interface VectorReport {
  backend: string
  checks: number
  failures: string[]
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b)

function ciphertextsOf(value: unknown, path: string, out: { path: string; text: string }[]): void {
  if (typeof value === 'string' && value.startsWith('cp2.')) out.push({ path, text: value })
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) ciphertextsOf(item, `${path}/${index}`, out)
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      ciphertextsOf(item, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, out)
    }
  }
}

/** Runs every vector the client side of cp2 must reproduce; `backend` defaults to WebCrypto. */
export async function checkSharedVectors(
  vectors: Json,
  backend: CryptoBackend = webCryptoBackend,
): Promise<VectorReport> {
  const failures: string[] = []
  let checks = 0
  const expect = (ok: boolean, what: string) => {
    checks++
    if (!ok) failures.push(what)
  }
  const attempt = async (what: string, run: () => Promise<void>) => {
    try {
      await run()
    } catch (error) {
      failures.push(`${what}: threw ${(error as Error).message}`)
    }
  }
  const registry = new AdapterRegistry(builtinAdapters())
  const published = vectors.published as Json
  const key = await deriveFieldKey(backend, vectors.context.keyId, fromHex(vectors.context.keyHex))
  const nonce = vectors.context.nonce as string
  const request: ClientCipherContext = { key, nonce, direction: 'request' }
  const response: ClientCipherContext = { key, nonce, direction: 'response' }

  /** Every ciphertext decrypts, and re-encrypts under its own IV to the same string. */
  async function byteExact(body: unknown, context: ClientCipherContext, what: string) {
    const found: { path: string; text: string }[] = []
    ciphertextsOf(body, '', found)
    for (const { path, text } of found) {
      const value = await decryptValue(context, 0, path, text)
      const iv = fromBase64url(text.slice(text.indexOf('.', 4) + 1))!.subarray(0, 12)
      expect(
        (await encryptValue(context, 0, path, value, iv)) === text,
        `${what}: ${path} re-encrypts differently`,
      )
    }
  }

  await attempt('published', async () => {
    const field = published.field
    const ciphertext = await encryptValue(
      request,
      field.sequence,
      field.path,
      field.value,
      fromHex(field.ivHex),
    )
    expect(ciphertext === field.ciphertext, 'published field ciphertext')
    expect(
      (await decryptValue(request, field.sequence, field.path, field.ciphertext)) === field.value,
      'published field decrypts',
    )
    const seal = published.requestSeal
    const bound = bindRequest(seal)
    expect(canonicalQuery(seal.search) === seal.canonicalQuery, 'published canonical query')
    expect(bound.meta === seal.meta && bound.sealedHeaders === seal.sealedHeaders, 'published request meta')
    expect(canonicalJson(seal.body) === seal.canonicalBody, 'published canonical body')
    expect(
      (await computeSeal(request, 0, 'request', seal.meta, seal.body)) === seal.seal,
      'published request seal',
    )
    const answer = published.responseSeal
    expect(
      (await computeSeal(response, 0, 'response', String(answer.status), answer.body)) === answer.seal,
      'published response seal',
    )
    const event = published.eventSeal
    expect(
      (await computeSeal(response, event.sequence, 'event', event.eventName, event.event)) === event.seal,
      'published event seal',
    )
    expect(
      (await verifyEndMarker(response, published.endMarker.events, published.endMarker.marker)) === undefined,
      'published end marker',
    )
    const failed = await verifyEndMarker(
      response,
      published.failureMarker.events,
      published.failureMarker.marker,
    )
    expect(failed?.code === published.failureMarker.failure.code, 'published failure marker')
    const error = published.errorSeal
    expect(
      await sealMatches(response, 0, 'error', String(error.status), error.body, error.seal),
      'published error seal',
    )
    expect(
      !(await sealMatches(response, 0, 'error', String(error.status + 1), error.body, error.seal)),
      'error seal binds the status',
    )
  })

  await attempt('agreement', async () => {
    const agreement = published.agreement
    const subtle = globalThis.crypto.subtle
    const clientKey = await subtle.importKey(
      'jwk',
      {
        kty: 'OKP',
        crv: 'X25519',
        d: toBase64url(fromHex(agreement.clientPrivateHex)),
        x: agreement.clientPublic,
      },
      { name: 'X25519' },
      false,
      ['deriveBits'],
    )
    const pair = {
      publicKey: fromBase64url(agreement.clientPublic)!,
      async agree(peer: Uint8Array) {
        const peerKey = await subtle.importKey(
          'raw',
          peer as Uint8Array<ArrayBuffer>,
          { name: 'X25519' },
          false,
          [],
        )
        return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: peerKey }, clientKey, 256))
      },
    }
    const agreed = await agreeFieldKey(backend, agreement.keyId, fromBase64url(agreement.serverPublic)!, pair)
    expect(agreed.ephemeralKey === agreement.clientPublic, 'agreement ephemeral key')
    const reference = await deriveFieldKey(backend, agreement.keyId, fromHex(agreement.fieldKeyHex))
    const probe = { id: 'probe' }
    const iv = fromHex('000102030405060708090a0b')
    const mine: ClientCipherContext = { key: agreed.key, nonce, direction: 'request' }
    const theirs: ClientCipherContext = { key: reference, nonce, direction: 'request' }
    expect(
      (await encryptValue(mine, 0, '/p', 'x', iv)) === (await encryptValue(theirs, 0, '/p', 'x', iv)) &&
        (await computeSeal(mine, 0, 'request', '', probe)) ===
          (await computeSeal(theirs, 0, 'request', '', probe)),
      'agreed field key',
    )
  })

  for (const item of vectors.canonicalJson as { json: string; canonical: string | null }[]) {
    let actual: string | null
    try {
      actual = canonicalJson(JSON.parse(item.json))
    } catch {
      actual = null
    }
    expect(actual === item.canonical, `canonical JSON of ${item.json}`)
  }
  for (const [bits, expected] of vectors.numbers as [string, string][]) {
    const view = new DataView(new ArrayBuffer(8))
    view.setBigUint64(0, BigInt(`0x${bits}`))
    expect(canonicalJson(view.getFloat64(0)) === expected, `number ${bits}`)
  }
  // One spelling per byte string, whichever codec (native or not) the runtime gives base64url.
  for (const [text, hex] of [
    ['', ''],
    ['AA', '00'],
    ['AAE', '0001'],
    ['AAEC', '000102'],
    ['_-_-', 'ffeffe'],
  ] as const) {
    const decoded = fromBase64url(text)
    expect(decoded !== undefined && toHex(decoded) === hex, `base64url ${text} decodes`)
    expect(toBase64url(fromHex(hex)) === text, `base64url ${text} encodes`)
  }
  for (const text of [
    'A',
    'AAAAA',
    'AB',
    'AAF',
    'AA==',
    'AA=',
    'AAA=',
    'A+/A',
    'AA/A',
    'AA A',
    ' AAA',
    'AAA\n',
    'AA\tA',
    'AAé',
    'AAA\u0100',
  ]) {
    expect(fromBase64url(text) === undefined, `base64url ${JSON.stringify(text)} is refused`)
  }
  for (const item of vectors.canonicalQuery as { search: string; canonical: string | null }[]) {
    let actual: string | null
    try {
      actual = canonicalQuery(item.search)
    } catch {
      actual = null
    }
    expect(actual === item.canonical, `canonical query of ${item.search}`)
  }
  for (const item of vectors.sealedHeaders as Json[]) {
    const names = sealedHeaderList(Object.keys(item.headers))
    const lowered = Object.fromEntries(
      Object.entries(item.headers).map(([name, value]) => [name.toLowerCase(), value]),
    )
    expect(names.join(',') === item.sealedHeaders, 'sealed header list')
    expect(
      sealedHeaderBlock(names, (name) => lowered[name] as string | undefined) === item.headerLines,
      'sealed header lines',
    )
  }

  for (const item of vectors.requests as Json[]) {
    await attempt(item.name, async () => {
      const match = registry.lookupSuffix(item.method, item.path)!
      expect(match.routePath === item.routePath, `${item.name}: route path`)
      const bound = bindRequest({
        method: item.method,
        routePath: match.routePath,
        search: item.search,
        timestamp: item.timestamp,
        headers: item.headers,
      })
      expect(
        bound.meta === item.meta && bound.sealedHeaders === item.sealedHeaders,
        `${item.name}: seal meta`,
      )
      expect(
        canonicalJson(item.encryptedBody) === item.canonicalEncryptedBody,
        `${item.name}: canonical body`,
      )
      expect(
        (await computeSeal(request, 0, 'request', item.meta, item.encryptedBody)) === item.seal,
        `${item.name}: seal`,
      )
      const plain = await decryptFields(match.route.requestTree, item.encryptedBody, request, 0)
      expect(same(plain, JSON.parse(item.bodyJson)), `${item.name}: decrypts to the body`)
      await byteExact(item.encryptedBody, request, item.name)
    })
  }
  for (const item of vectors.responses as Json[]) {
    await attempt(item.name, async () => {
      const match = registry.lookupSuffix(item.method, item.path)!
      const opened = await openResponse(
        match.route.responseTree,
        item.encryptedBody,
        response,
        item.status,
        item.seal,
      )
      expect(same(opened, JSON.parse(item.bodyJson)), `${item.name}: opens to the body`)
      await byteExact(item.encryptedBody, response, item.name)
      let refused = false
      await openResponse(
        match.route.responseTree,
        item.encryptedBody,
        response,
        item.status + 1,
        item.seal,
      ).catch(() => {
        refused = true
      })
      expect(refused, `${item.name}: a changed status is refused`)
    })
  }
  for (const item of vectors.streams as Json[]) {
    await attempt(item.name, async () => {
      const match = registry.lookupSuffix(item.method, item.path)!
      const wire = new TextEncoder().encode(item.wire)
      const decoder = new TextDecoder()
      let text = ''
      let error: string | undefined
      try {
        for await (const piece of openStream(
          (async function* () {
            yield wire
          })(),
          match.route.stream!,
          response,
        )) {
          text += decoder.decode(piece, { stream: true })
        }
      } catch (caught) {
        error = (caught as { code?: string }).code ?? 'unknown'
      }
      expect(text === item.plain, `${item.name}: opened stream text`)
      expect(error === item.error, `${item.name}: stream outcome ${error} (expected ${item.error})`)
    })
  }
  return { backend: backend.name, checks, failures }
}
