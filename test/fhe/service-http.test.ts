import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { CoreHandler, CoreRequest } from 'continuum-proxy'
import {
  createFheHandler,
  FheKeyManager,
  FheService,
  type StoredMatrixDescription,
} from 'continuum-proxy/fhe'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let service: FheService
let handler: CoreHandler
let client: FheKeyManager
let collection: StoredMatrixDescription
let baseUrl: string
let close: () => Promise<void>

const vector = (length: number, seed: number) =>
  Array.from({ length }, (_, index) => Math.sin(seed * 17 + index * 3.7))
const unit = (values: number[]) => {
  const norm = Math.hypot(...values)
  return values.map((value) => value / norm)
}
const stored = Array.from({ length: 60 }, (_, row) => vector(32, row + 1))

/** The tiny node:http → CoreRequest adapter the middlewares will provide. */
function toCoreRequest(message: IncomingMessage): CoreRequest {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  return {
    method: message.method ?? 'GET',
    url: message.url ?? '/',
    headers,
    body: { kind: 'stream', stream: message },
    signal: new AbortController().signal,
  }
}

const direct = (method: string, url: string, body?: unknown, contentType = 'application/json') =>
  handler({
    method,
    url,
    headers: { 'content-type': contentType },
    body:
      body === undefined
        ? { kind: 'empty' }
        : { kind: 'bytes', bytes: body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body)) },
    signal: new AbortController().signal,
  })

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

beforeAll(async () => {
  service = new FheService({
    parameters: 'ckks-4096',
    workers: 2,
    maxKeyBytes: 2_000_000,
    maxCiphertextBytes: 200_000,
  })
  handler = createFheHandler({ service })
  client = await FheKeyManager.generate({ parameters: 'ckks-4096' })
  collection = await service.registerCollection('docs', stored, { normalize: true })
  await service.registerLinearLayer('head', {
    weights: [vector(32, 900), vector(32, 901), vector(32, 902)],
    bias: [0.5, -0.5, 1],
  })
  const server = createServer(async (message, response) => {
    const result = await handler(toCoreRequest(message))
    if (result === undefined) {
      response.writeHead(404).end()
      return
    }
    response.writeHead(result.status, result.headers).end(result.body as string)
    // Drain what a rejected (e.g. oversized) body left unread, so the client sees the answer.
    message.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise((resolve) => server.close(() => resolve()))
}, 60_000)

afterAll(async () => {
  await close()
  await service.close()
  client.dispose()
})

describe('FHE HTTP endpoints', () => {
  it('publishes the parameters and the collections with their rotation steps', async () => {
    const response = await fetch(`${baseUrl}/v1/fhe/params`)
    const body = (await response.json()) as Record<string, any>
    expect(response.status).toBe(200)
    expect(body.parameters.polyModulusDegree).toBe(4096)
    expect(body.collections.map((entry: { id: string }) => entry.id).sort()).toEqual(['docs', 'head'])
    expect(body.collections.find((entry: { id: string }) => entry.id === 'docs').galoisSteps).toEqual([1, 8])
  })

  it('uploads binary keys, then scores an encrypted query by cosine over real HTTP', async () => {
    const keys = client.evaluationKeys({ galoisSteps: collection.galoisSteps })
    const upload = await fetch(`${baseUrl}/v1/fhe/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: keys as unknown as BodyInit,
    })
    expect(upload.status).toBe(201)
    expect(await upload.json()).toMatchObject({ keyId: client.keyId, galoisSteps: [1, 8] })
    const query = unit(vector(32, 4242))
    const ciphertext = client.encryptQueries(collection.layouts.single, [query])
    const { status, body } = await post('/v1/fhe/similarity', {
      keyId: client.keyId,
      collection: 'docs',
      query: Buffer.from(ciphertext).toString('base64'),
    })
    expect(status).toBe(200)
    const [scores] = client.decryptScores(
      body.layout,
      body.results.map((result: string) => Buffer.from(result, 'base64')),
    )
    stored.forEach((row, index) => {
      const expected = unit(row).reduce((sum, value, column) => sum + value * query[column]!, 0)
      expect(Math.abs(scores![index]! - expected)).toBeLessThan(1e-3)
    })
  })

  it('scores a batch of queries and applies a linear layer, called directly', async () => {
    const keysJson = { keys: Buffer.from(client.evaluationKeys({ galoisSteps: [1, 8] })).toString('base64') }
    expect((await direct('POST', '/v1/fhe/keys', keysJson))?.status).toBe(201)
    const layout = collection.layouts.batched!
    const queries = [unit(vector(32, 1)), unit(vector(32, 2))]
    const ciphertext = Buffer.from(client.encryptQueries(layout, queries)).toString('base64')
    const response = await direct('POST', '/v1/fhe/similarity', {
      keyId: client.keyId,
      collection: 'docs',
      query: ciphertext,
      layout: 'batched',
    })
    const body = JSON.parse(response?.body as string)
    const scores = client.decryptScores(
      layout,
      body.results.map((result: string) => Buffer.from(result, 'base64')),
      2,
    )
    const expected = unit(stored[5]!).reduce((sum, value, column) => sum + value * queries[1]![column]!, 0)
    expect(Math.abs(scores[1]![5]! - expected)).toBeLessThan(1e-3)

    const head = service.matrix('head', 'linear')
    const input = vector(32, 77)
    const linear = await direct('POST', '/v1/fhe/linear', {
      keyId: client.keyId,
      layer: 'head',
      input: Buffer.from(client.encryptQueries(head.layouts.single, [input])).toString('base64'),
    })
    const outputs = client.decryptScores(
      head.layouts.single,
      JSON.parse(linear?.body as string).results.map((result: string) => Buffer.from(result, 'base64')),
    )[0]!
    const first = vector(32, 900).reduce((sum, value, column) => sum + value * input[column]!, 0) + 0.5
    expect(Math.abs(outputs[0]! - first)).toBeLessThan(1e-3)
  })

  it('answers bad input with coded 4xx errors and the workers keep serving', async () => {
    const query = Buffer.from(
      client.encryptQueries(collection.layouts.single, [unit(vector(32, 5))]),
    ).toString('base64')
    const cases: [unknown, number, string][] = [
      [
        {
          keyId: client.keyId,
          collection: 'docs',
          query: Buffer.from('garbage bytes here').toString('base64'),
        },
        400,
        'CONTINUUM_FHE_MALFORMED_PAYLOAD',
      ],
      [{ keyId: client.keyId, collection: 'docs', query: 'not base64!' }, 400, 'CONTINUUM_SCHEMA_VIOLATION'],
      [{ keyId: 'tenant-b', collection: 'docs', query }, 400, 'CONTINUUM_FHE_KEY_MISMATCH'],
      [{ keyId: client.keyId, collection: 'nope', query }, 404, 'CONTINUUM_FHE_COLLECTION_UNKNOWN'],
    ]
    for (const [body, status, code] of cases) {
      const response = await post('/v1/fhe/similarity', body)
      expect(response.status).toBe(status)
      expect(response.body.error.code).toBe(code)
      expect(JSON.stringify(response.body)).not.toContain(query.slice(0, 40))
    }
    const other = await FheKeyManager.generate({ parameters: 'ckks-8192' })
    try {
      const foreign = await post('/v1/fhe/similarity', {
        keyId: client.keyId,
        collection: 'docs',
        query: Buffer.from(other.encrypt([1])).toString('base64'),
      })
      expect(foreign.body.error.code).toBe('CONTINUUM_FHE_PARAMETER_MISMATCH')
      const foreignKeys = await fetch(`${baseUrl}/v1/fhe/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: other.evaluationKeys({ galoisSteps: [1] }) as unknown as BodyInit,
      })
      expect(foreignKeys.status).toBe(400)
    } finally {
      other.dispose()
    }
    const stranger = await FheKeyManager.generate({ parameters: 'ckks-4096' })
    try {
      const unknown = await post('/v1/fhe/similarity', {
        keyId: stranger.keyId,
        collection: 'docs',
        query: Buffer.from(stranger.encrypt([1])).toString('base64'),
      })
      expect(unknown.status).toBe(404)
      expect(unknown.body.error.code).toBe('CONTINUUM_FHE_KEYS_UNKNOWN')
      const tooFew = await fetch(`${baseUrl}/v1/fhe/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: stranger.evaluationKeys({ galoisSteps: [1] }) as unknown as BodyInit,
      })
      expect(tooFew.status).toBe(201)
      const missing = await post('/v1/fhe/similarity', {
        keyId: stranger.keyId,
        collection: 'docs',
        query: Buffer.from(stranger.encryptQueries(collection.layouts.single, [vector(32, 1)])).toString(
          'base64',
        ),
      })
      expect(missing.body.error).toMatchObject({
        code: 'CONTINUUM_FHE_ROTATION_KEY_MISSING',
        requiredGaloisSteps: [1, 8],
      })
    } finally {
      stranger.dispose()
    }
    const garbageKeys = await fetch(`${baseUrl}/v1/fhe/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(5000).fill(7) as unknown as BodyInit,
    })
    expect(garbageKeys.status).toBe(400)
    const oversizedKeys = await direct(
      'POST',
      '/v1/fhe/keys',
      new Uint8Array(2_000_001),
      'application/octet-stream',
    )
    expect(oversizedKeys?.status).toBe(413)
    const oversizedQuery = await direct('POST', '/v1/fhe/similarity', {
      keyId: client.keyId,
      collection: 'docs',
      query: 'A'.repeat(400_000),
    })
    expect(JSON.parse(oversizedQuery?.body as string).error.code).toBe('CONTINUUM_BODY_TOO_LARGE')
    expect((await fetch(`${baseUrl}/v1/fhe/similarity`)).status).toBe(405)
    expect(await direct('GET', '/v1/other')).toBeUndefined()
    const healthy = await post('/v1/fhe/similarity', { keyId: client.keyId, collection: 'docs', query })
    expect(healthy.status).toBe(200)
  })

  it('answers other requests while a long FHE job runs in the workers', async () => {
    const big = await service.registerCollection(
      'big',
      Array.from({ length: 6000 }, (_, row) => vector(256, row)),
    )
    await service.uploadEvaluationKeys(client.evaluationKeys({ galoisSteps: big.galoisSteps }))
    const ciphertext = Buffer.from(client.encryptQueries(big.layouts.single, [vector(256, 3)])).toString(
      'base64',
    )
    const order: string[] = []
    const long = post('/v1/fhe/similarity', {
      keyId: client.keyId,
      collection: 'big',
      query: ciphertext,
    }).then((response) => {
      order.push('fhe')
      return response
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const params = await fetch(`${baseUrl}/v1/fhe/params`)
    order.push('params')
    expect(params.status).toBe(200)
    const done = await long
    expect(done.status).toBe(200)
    expect(done.body.results).toHaveLength(3)
    expect(order).toEqual(['params', 'fhe'])
  }, 120_000)
})
