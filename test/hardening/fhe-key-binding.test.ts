/**
 * FHE evaluation keys belong to their material and their caller. The attacks, over real sockets
 * through the Express, Koa and Fastify bindings: another tenant takes the key id it sees in the
 * victim's query envelopes and uploads its own keys under it (before: accepted, and the victim's
 * scores came back wrong by ~7e4 without any error); it floods 32 uploads (before: the shared LRU
 * evicted the victim's keys); it queries or deletes with the victim's key id. Now the key id is
 * the digest of the key material, keys are held per caller named by the `authorize` hook, and
 * quotas refuse rather than evict.
 */
import {
  createFheHandler,
  FheKeyManager,
  FheService,
  type FheServiceOptions,
  type StoredMatrixDescription,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvaluationBundle } from '../../src/fhe/evaluation-bundle'
import { resolveCkksParameters } from '../../src/fhe/params'
import { frameworks, type RunningApp } from '../conformance/frameworks'

const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.sin(seed * 11 + index * 2.3))
const stored = Array.from({ length: 30 }, (_, row) => vector(16, row + 1))
const query = vector(16, 4242)
const expected = stored.map((row) => row.reduce((sum, value, column) => sum + value * query[column]!, 0))

/** Bearer tokens of the two tenants, as a real authentication layer would verify them. */
const TOKENS: Record<string, string> = {
  'token-victim': 'tenant-victim',
  'token-attacker': 'tenant-attacker',
}
const authorize = (request: { headers: Readonly<Record<string, string | undefined>> }) =>
  TOKENS[(request.headers.authorization ?? '').replace(/^Bearer /, '')]

const SERVICE: FheServiceOptions = {
  parameters: 'ckks-4096',
  workers: 1,
  maxKeyBytes: 600_000,
  keyQuotaBytes: 1_000_000,
  keyCacheMaxBytes: 3_000_000,
}

/** The same envelope under another key id (the layout is documented in src/fhe/envelope.ts). */
function relabel(bundle: Uint8Array, keyId: string): Uint8Array {
  const bytes = Buffer.from(bundle)
  const oldLength = bytes[14]!
  const id = Buffer.from(keyId)
  return Buffer.concat([bytes.subarray(0, 14), Buffer.from([id.length]), id, bytes.subarray(15 + oldLength)])
}

/** Uploads in a flood. */
const FLOOD = 32

let victim: FheKeyManager
let attacker: FheKeyManager
let victimKeys: Uint8Array
let floodKeys: Uint8Array[]

beforeAll(async () => {
  victim = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  attacker = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  // 32 bundles of about 135 KB: 4.3 MB, more than the whole 3 MB key cache, so a shared LRU would
  // evict the victim's keys; the 1 MB quota, charged at their inflated 230 KB, lets the flooder
  // keep 4 of them.
  floodKeys = Array.from({ length: FLOOD }, () =>
    attacker.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false }),
  )
}, 60_000)

afterAll(() => {
  victim.dispose()
  attacker.dispose()
})

describe.each(frameworks.filter((harness) => harness.prefix === ''))('FHE keys through $name', (harness) => {
  let service: FheService
  let anonymousService: FheService
  let collection: StoredMatrixDescription
  let app: RunningApp
  let anonymous: RunningApp

  beforeAll(async () => {
    service = new FheService(SERVICE)
    anonymousService = new FheService(SERVICE)
    collection = await service.registerCollection('docs', stored)
    await anonymousService.registerCollection('docs', stored)
    victimKeys = victim.evaluationKeys({ galoisSteps: collection.galoisSteps })
    app = await harness.start({
      upstream: 'http://127.0.0.1:9',
      handlers: [createFheHandler({ service, authorize })],
    })
    anonymous = await harness.start({
      upstream: 'http://127.0.0.1:9',
      handlers: [createFheHandler({ service: anonymousService })],
    })
  }, 60_000)

  afterAll(async () => {
    await app.close()
    await anonymous.close()
    await service.close()
    await anonymousService.close()
  })

  const upload = (target: RunningApp, bundle: Uint8Array, token?: string) =>
    fetch(`${target.url}/v1/fhe/keys`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: bundle as unknown as BodyInit,
    })

  const victimQuery = () =>
    Buffer.from(victim.encryptQueries(collection.layouts.single, [query])).toString('base64')

  /** The victim's similarity query; resolves its status, code and worst score error. */
  async function score(target: RunningApp, token?: string, keyId = victim.keyId) {
    const response = await fetch(`${target.url}/v1/fhe/similarity`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ keyId, collection: 'docs', query: victimQuery() }),
    })
    const body = (await response.json()) as { layout: never; results: string[]; error?: { code: string } }
    if (response.status !== 200) return { status: response.status, code: body.error?.code, error: Infinity }
    const [scores] = victim.decryptScores(
      body.layout,
      body.results.map((result) => Buffer.from(result, 'base64')),
    )
    const error = Math.max(...expected.map((value, index) => Math.abs(scores![index]! - value)))
    return { status: 200, code: undefined, error }
  }

  it('refuses keys uploaded under a key id that is not their digest, so the victim keeps exact scores', async () => {
    expect((await upload(app, victimKeys, 'token-victim')).status).toBe(201)
    // The same bytes again only refresh them.
    expect((await upload(app, victimKeys, 'token-victim')).status).toBe(200)
    const forged = relabel(attacker.evaluationKeys({ galoisSteps: collection.galoisSteps }), victim.keyId)
    const refused = await upload(app, forged, 'token-attacker')
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'CONTINUUM_FHE_KEY_ID_UNBOUND',
    )
    // Even under the victim's own identity, forged keys are refused.
    expect((await upload(app, forged, 'token-victim')).status).toBe(400)
    expect((await upload(anonymous, forged)).status).toBe(400)
    const result = await score(app, 'token-victim')
    expect(result.status).toBe(200)
    expect(result.error).toBeLessThan(1e-3)
  })

  it('refuses callers the authorize hook does not name, before reading their keys', async () => {
    const response = await upload(app, victimKeys)
    expect(response.status).toBe(401)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'CONTINUUM_FHE_UNAUTHORIZED',
    )
    expect((await upload(app, victimKeys, 'token-forged')).status).toBe(401)
  })

  it('lets a flood of 32 uploads fill only the flooder’s quota, never evicting the victim', async () => {
    const statuses: number[] = []
    for (const bundle of floodKeys) {
      const response = await upload(app, bundle, 'token-attacker')
      statuses.push(response.status)
      await response.arrayBuffer()
    }
    expect(FLOOD * floodKeys[0]!.byteLength).toBeGreaterThan(SERVICE.keyCacheMaxBytes!)
    const accepted = statuses.filter((status) => status === 201).length
    const held = parseEvaluationBundle(floodKeys[0]!, resolveCkksParameters('ckks-4096')).bytes
    expect(accepted).toBe(Math.floor(1_000_000 / held))
    expect(statuses.filter((status) => status === 429)).toHaveLength(FLOOD - accepted)
    expect(service.keyUsage({ identity: 'tenant-attacker' })).toBeLessThanOrEqual(1_000_000)
    const result = await score(app, 'token-victim')
    expect(result).toMatchObject({ status: 200 })
    expect(result.error).toBeLessThan(1e-3)
  })

  it('without an authorize hook, anonymous floods cannot evict earlier anonymous keys either', async () => {
    expect((await upload(anonymous, victimKeys)).status).toBe(201)
    const statuses: number[] = []
    for (const bundle of floodKeys) {
      const response = await upload(anonymous, bundle)
      statuses.push(response.status)
      await response.arrayBuffer()
    }
    expect(statuses).toContain(429)
    const result = await score(anonymous)
    expect(result.status).toBe(200)
    expect(result.error).toBeLessThan(1e-3)
  })

  it('gives another caller nothing under the victim’s key id: no products, no deletes', async () => {
    // The attacker replays the victim's query (key id and ciphertext as seen on the wire).
    const stolen = await score(app, 'token-attacker')
    expect(stolen).toMatchObject({ status: 404, code: 'CONTINUUM_FHE_KEYS_UNKNOWN' })
    const deleted = await fetch(`${app.url}/v1/fhe/keys/${victim.keyId}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer token-attacker' },
    })
    expect(deleted.status).toBe(404)
    expect((await score(app, 'token-victim')).status).toBe(200)
    // The owner can delete its keys, which frees its quota.
    const own = await fetch(`${app.url}/v1/fhe/keys/${victim.keyId}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer token-victim' },
    })
    expect(own.status).toBe(204)
    expect(service.keyUsage({ identity: 'tenant-victim' })).toBe(0)
    expect(await score(app, 'token-victim')).toMatchObject({
      status: 404,
      code: 'CONTINUUM_FHE_KEYS_UNKNOWN',
    })
  })
})

describe('idle keys', () => {
  it('leave after the idle period, freeing the quota, on the injected clock', async () => {
    let now = 1_000
    const service = new FheService({ ...SERVICE, keyIdleMs: 60_000, clock: { now: () => now } })
    try {
      const keys = attacker.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false })
      const upload = await service.uploadEvaluationKeys(keys, { identity: 'a' })
      expect(upload.created).toBe(true)
      now += 59_000
      expect(service.hasEvaluationKeys(upload.keyId, { identity: 'a' })).toBe(true)
      now += 59_000 // used a moment ago: still held
      expect(service.hasEvaluationKeys(upload.keyId, { identity: 'a' })).toBe(true)
      now += 60_000
      expect(service.hasEvaluationKeys(upload.keyId, { identity: 'a' })).toBe(false)
      expect(service.keyUsage({ identity: 'a' })).toBe(0)
      await expect(
        service.uploadEvaluationKeys(relabel(keys, 'fhe-chosen-by-me'), { identity: 'a' }),
      ).rejects.toMatchObject({ code: 'CONTINUUM_FHE_KEY_ID_UNBOUND' })
    } finally {
      await service.close()
    }
  })

  it('refuses quotas that cannot hold one upload', () => {
    expect(() => new FheService({ ...SERVICE, keyQuotaBytes: 100 })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
  })
})
