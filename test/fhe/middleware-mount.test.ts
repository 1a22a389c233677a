import {
  createFheHandler,
  FheKeyManager,
  FheService,
  type StoredMatrixDescription,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'

const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.cos(seed * 13 + index * 1.7))
const stored = Array.from({ length: 40 }, (_, row) => vector(16, row + 1))

let service: FheService
let client: FheKeyManager
let collection: StoredMatrixDescription

beforeAll(async () => {
  service = new FheService({ parameters: 'ckks-4096', workers: 1 })
  client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  collection = await service.registerCollection('docs', stored)
})

afterAll(async () => {
  await service.close()
})

describe.each(frameworks.filter((harness) => harness.prefix === ''))(
  'CKKS endpoints mounted in $name',
  (harness) => {
    let app: RunningApp

    beforeAll(async () => {
      app = await harness.start({
        upstream: 'http://127.0.0.1:9',
        handlers: [createFheHandler({ service })],
        unknownRoutes: 'reject',
      })
    })

    afterAll(async () => {
      await app.close()
    })

    it('answers an oversized key upload with 413 over the socket, not a reset', async () => {
      const oversized = Buffer.alloc(service.maxKeyBytes + 4 * 1024 * 1024, 7)
      const response = await fetch(`${app.url}/v1/fhe/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: oversized,
      })
      expect(response.status).toBe(413)
      const body = (await response.json()) as { error: { code: string } }
      expect(body.error.code).toMatch(/^CONTINUUM_/)
    })

    it('serves the parameters and an encrypted similarity query, leaving other routes to the proxy', async () => {
      const params = await fetch(`${app.url}/v1/fhe/params`)
      expect(params.status).toBe(200)
      const keys = client.evaluationKeys({ galoisSteps: collection.galoisSteps })
      const upload = await fetch(`${app.url}/v1/fhe/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: keys as unknown as BodyInit,
      })
      expect(upload.status).toBe(201)
      const query = vector(16, 99)
      const response = await fetch(`${app.url}/v1/fhe/similarity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          keyId: client.keyId,
          collection: 'docs',
          query: Buffer.from(client.encryptQueries(collection.layouts.single, [query])).toString('base64'),
        }),
      })
      expect(response.status).toBe(200)
      const body = (await response.json()) as { layout: unknown; results: string[] }
      const [scores] = client.decryptScores(
        body.layout as Parameters<FheKeyManager['decryptScores']>[0],
        body.results.map((result) => Buffer.from(result, 'base64')),
      )
      stored.forEach((row, index) => {
        const expected = row.reduce((sum, value, column) => sum + value * query[column]!, 0)
        expect(Math.abs(scores![index]! - expected)).toBeLessThan(1e-3)
      })
      const garbage = await fetch(`${app.url}/v1/fhe/similarity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keyId: client.keyId, collection: 'docs', query: 'bm90IGEgY2lwaGVydGV4dA==' }),
      })
      expect(garbage.status).toBeGreaterThanOrEqual(400)
      expect(garbage.status).toBeLessThan(500)
      const unknown = await fetch(`${app.url}/v2/unknown`)
      expect(unknown.status).toBe(501)
    })
  },
)
