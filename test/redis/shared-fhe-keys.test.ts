/**
 * FHE evaluation keys shared on real Redis: two Express instances, each with its own FheService
 * and connection. Keys uploaded through one are used through the other with exact scores; the
 * per-identity byte quota holds for the pair (a flood spread over both instances fits one quota,
 * not two); another caller finds nothing; a delete through one instance stops the other at its
 * next product although it had the keys loaded. Redis holds only the public bundle as uploaded,
 * under a digest of the identity; keys swapped in Redis are refused by their digest, never used.
 * A flood of tiny bundles fills only as many lease entries as 64 KiB bundles would (every lease
 * call reads its whole hash, so their number must stay bounded). With Redis gone, uploads fail closed with a coded 503 while keys already loaded keep working.
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  createFheHandler,
  EnvelopeKind,
  evaluationKeyId,
  FheKeyManager,
  FheService,
  type FheServiceOptions,
  resolveCkksParameters,
  type StoredMatrixDescription,
} from 'continuum-proxy/fhe'
import { createRedisStateStore, type RedisStateStore } from 'continuum-proxy/redis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeEnvelope, SectionTag } from '../../src/fhe/envelope'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, type Topology } from './support/shared-stores'

const express = frameworks.find((harness) => harness.name === 'express')!
const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.sin(seed * 11 + index * 2.3))
const stored = Array.from({ length: 30 }, (_, row) => vector(16, row + 1))
const query = vector(16, 4242)
const expected = stored.map((row) => row.reduce((sum, value, column) => sum + value * query[column]!, 0))
const TOKENS: Record<string, string> = {
  'token-victim': 'tenant-victim',
  'token-attacker': 'tenant-attacker',
  'token-flood': 'tenant-flood',
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

let backends: SharedBackends
let victim: FheKeyManager
let attacker: FheKeyManager
let collection: StoredMatrixDescription

beforeAll(async () => {
  ;[backends, victim, attacker] = await Promise.all([
    startBackends(),
    FheKeyManager.generate({ parameters: 'ckks-4096' }),
    FheKeyManager.generate({ parameters: 'ckks-4096' }),
  ])
}, 60_000)

afterAll(async () => {
  victim?.dispose()
  attacker?.dispose()
  await backends?.stop()
})

interface Instance {
  app: RunningApp
  service: FheService
  close(): Promise<void>
}

async function instance(store: RedisStateStore): Promise<Instance> {
  const service = new FheService({ ...SERVICE, store })
  collection = await service.registerCollection('docs', stored)
  const app = await express.start({
    upstream: 'http://127.0.0.1:9',
    handlers: [createFheHandler({ service, authorize })],
  })
  return {
    app,
    service,
    async close() {
      await app.close()
      await service.close()
    },
  }
}

const upload = (target: Instance, bundle: Uint8Array, token: string) =>
  fetch(`${target.app.url}/v1/fhe/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
    body: bundle as unknown as BodyInit,
  })

async function score(target: Instance, token: string, owner = victim) {
  const response = await fetch(`${target.app.url}/v1/fhe/similarity`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      keyId: owner.keyId,
      collection: 'docs',
      query: Buffer.from(owner.encryptQueries(collection.layouts.single, [query])).toString('base64'),
    }),
  })
  const body = (await response.json()) as { layout: never; results: string[]; error?: { code: string } }
  if (response.status !== 200) return { status: response.status, code: body.error?.code, error: Infinity }
  const [scores] = owner.decryptScores(
    body.layout,
    body.results.map((result) => Buffer.from(result, 'base64')),
  )
  return {
    status: 200,
    code: undefined,
    error: Math.max(...expected.map((value, index) => Math.abs(scores![index]! - value))),
  }
}

const tagOf = (identity: string) => createHash('sha256').update(identity).digest('hex').slice(0, 32)

describe.each(['standalone', 'cluster'] as Topology[])(
  'FHE evaluation keys shared on %s Redis',
  (topology) => {
    it('uses keys uploaded through one instance on another, within one quota for both', async () => {
      const [one, two] = await Promise.all((await backends.open(topology, 2)).map(instance))
      const keys = victim.evaluationKeys({ galoisSteps: collection.galoisSteps })
      expect((await upload(one!, keys, 'token-victim')).status).toBe(201)
      expect(two!.service.hasEvaluationKeys(victim.keyId, { identity: 'tenant-victim' })).toBe(false)
      const result = await score(two!, 'token-victim')
      expect(result.status).toBe(200)
      expect(result.error).toBeLessThan(1e-3)
      // Another caller replaying the victim's key id finds nothing on either instance.
      expect(await score(two!, 'token-attacker')).toMatchObject({
        status: 404,
        code: 'CONTINUUM_FHE_KEYS_UNKNOWN',
      })

      // A flood spread over both instances fits one quota, not one per instance.
      const flood = Array.from({ length: 12 }, () =>
        attacker.evaluationKeys({ galoisSteps: [1], publicKey: false, relinKeys: false }),
      )
      const statuses: number[] = []
      for (const [index, bundle] of flood.entries()) {
        const response = await upload(index % 2 === 0 ? one! : two!, bundle, 'token-attacker')
        statuses.push(response.status)
        await response.arrayBuffer()
      }
      const accepted = statuses.filter((status) => status === 201).length
      expect(accepted).toBe(Math.floor(1_000_000 / flood[0]!.byteLength))
      expect(statuses.filter((status) => status === 429)).toHaveLength(flood.length - accepted)
      await Promise.all([one!.close(), two!.close()])
    })

    it('stops every instance using keys deleted through one of them', async () => {
      const [one, two] = await Promise.all((await backends.open(topology, 2)).map(instance))
      const keys = victim.evaluationKeys({ galoisSteps: collection.galoisSteps })
      expect((await upload(one!, keys, 'token-victim')).status).toBe(201)
      expect((await score(two!, 'token-victim')).status).toBe(200)
      expect(two!.service.hasEvaluationKeys(victim.keyId, { identity: 'tenant-victim' })).toBe(true)
      const deleted = await fetch(`${one!.app.url}/v1/fhe/keys/${victim.keyId}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer token-victim' },
      })
      expect(deleted.status).toBe(204)
      expect(await score(two!, 'token-victim')).toMatchObject({
        status: 404,
        code: 'CONTINUUM_FHE_KEYS_UNKNOWN',
      })
      expect(two!.service.hasEvaluationKeys(victim.keyId, { identity: 'tenant-victim' })).toBe(false)
      await Promise.all([one!.close(), two!.close()])
    })
  },
)

describe('FHE evaluation keys in Redis', () => {
  it('holds the public bundle as uploaded, under a digest of the identity, and refuses keys swapped in Redis', async () => {
    const [storeOne, storeTwo] = await backends.open('standalone', 2)
    const one = await instance(storeOne!)
    const keys = victim.evaluationKeys({ galoisSteps: collection.galoisSteps })
    expect((await upload(one, keys, 'token-victim')).status).toBe(201)
    const admin = createClient({ url: backends.server.url })
    admin.on('error', () => undefined)
    await admin.connect()
    const names = await admin.keys('continuum:fhe:*')
    expect(names.join('\n')).not.toContain('tenant-victim')
    const bundleKey = `continuum:fhe:{${tagOf('tenant-victim')}}:bundle:${victim.keyId}`
    expect(names).toContain(bundleKey)
    const held = (await admin.withTypeMapping({ 36: Buffer }).get(bundleKey)) as unknown as Buffer
    expect(Buffer.compare(held, Buffer.from(keys))).toBe(0)
    // The secret key never left the client: not a byte of its export is in Redis.
    const exported = Buffer.from(victim.exportSecretKey())
    const secret = exported.subarray(exported.length / 2, exported.length / 2 + 64)
    expect(held.includes(secret)).toBe(false)

    // Whoever can write to Redis swaps in other keys under the victim's id: a fresh instance refuses them.
    const forged = attacker.evaluationKeys({ galoisSteps: collection.galoisSteps })
    await admin.set(bundleKey, Buffer.from(forged), { expiration: { type: 'PX', value: 60_000 } })
    const two = await instance(storeTwo!)
    expect(await score(two, 'token-victim')).toMatchObject({
      status: 400,
      code: 'CONTINUUM_FHE_KEY_ID_UNBOUND',
    })
    await admin.close()
    await Promise.all([one.close(), two.close()])
  })

  it('holds a bounded number of bundles per identity however small they are, so no lease script scans a flood', async () => {
    const [store] = await backends.open('standalone', 1)
    const one = await instance(store!)
    const fingerprint = resolveCkksParameters('ckks-4096').fingerprint
    // Bundles of a few dozen bytes, each with other "key material", so each has its own key id:
    // a SEAL header (which the service checks before storing) over 8 random bytes.
    const tiny = () => {
      const key = Buffer.concat([Buffer.from('5ea1100401000000', 'hex'), Buffer.alloc(8), randomBytes(8)])
      key.writeBigUInt64LE(BigInt(key.length), 8)
      const sections: [number, Uint8Array][] = [[SectionTag.publicKey, Uint8Array.from(key)]]
      const keyId = evaluationKeyId(fingerprint, sections)
      return encodeEnvelope(EnvelopeKind.evaluationKeys, fingerprint, keyId, sections)
    }
    const statuses: number[] = []
    for (let index = 0; index < 40; index++) {
      statuses.push((await upload(one, tiny(), 'token-flood')).status)
    }
    const admin = createClient({ url: backends.server.url })
    admin.on('error', () => undefined)
    await admin.connect()
    // Every lease call reads the whole hash: its size must stay what real bundles could fill.
    const tag = tagOf('tenant-flood')
    const holders = await admin.hLen(`continuum:fhe:{${tag}}:keys`)
    const total = (await admin.hKeys('continuum:fhe:total')).filter((field) => field.startsWith(tag)).length
    await admin.close()
    const bound = Math.floor(SERVICE.keyQuotaBytes! / (64 * 1024))
    expect(holders).toBeLessThanOrEqual(bound)
    expect(total).toBeLessThanOrEqual(bound)
    expect(statuses.slice(bound)).toEqual(Array(40 - bound).fill(429))
    await one.close()
  })

  it('refuses uploads with a coded 503 while Redis is gone, and keeps loaded keys working', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    const one = await instance(store)
    const keys = victim.evaluationKeys({ galoisSteps: collection.galoisSteps })
    expect((await upload(one, keys, 'token-victim')).status).toBe(201)
    await server.kill()
    const refused = await upload(one, attacker.evaluationKeys({ galoisSteps: [1] }), 'token-attacker')
    expect(refused.status).toBe(503)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'CONTINUUM_STORE_UNAVAILABLE',
    )
    const result = await score(one, 'token-victim')
    expect(result.status).toBe(200)
    expect(result.error).toBeLessThan(1e-3)
    await one.close()
    await store.close()
    await server.stop()
  })
})
