/**
 * Computes the deterministic test vectors of docs/PROTOCOL.md from fixed inputs, so the docs test
 * can check the published values and another implementation can check itself against them.
 */
import {
  bindRequest,
  type CipherContext,
  canonicalJson,
  canonicalQuery,
  computeSeal,
  createFieldKey,
  deriveAgreedKey,
  encryptValue,
  endMarker,
  failureMarker,
  loadAgreementPrivateKey,
  sealBatch,
  sealError,
} from '../../src/cipher'

const hex = (length: number, start: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, index) => (start + index) & 0xff))

export function computeProtocolVectors(): Record<string, unknown> {
  const keyBytes = hex(32, 0x00)
  const key = createFieldKey('k1', keyBytes)
  const nonce = hex(16, 0xa0).toString('base64url')
  const request: CipherContext = { key, nonce, direction: 'request' }
  const response: CipherContext = { key, nonce, direction: 'response' }
  const iv = hex(12, 0x10)
  const fieldCiphertext = encryptValue(request, 0, '/messages/0/content', 'Hello, world', iv)
  const body = { model: 'llama-3', max_tokens: 16, messages: [{ role: 'user', content: fieldCiphertext }] }
  const search = '?api-version=2024-06-01&tag=a+b&note=caf%c3%a9!'
  const requestHeaders = {
    authorization: 'Bearer sk-test',
    'cache-control': 'no-store',
    'content-type': 'application/json',
  }
  const bound = bindRequest({
    method: 'POST',
    routePath: '/v1/chat/completions',
    search,
    timestamp: '1700000000000',
    headers: requestHeaders,
  })
  const meta = bound.meta
  const errorBody = {
    error: {
      code: 'CONTINUUM_SCHEMA_VIOLATION',
      message: 'Request body does not match the openai chat-completions schema at /messages',
      type: 'invalid_request_error',
      path: '/messages',
    },
  }
  const failure = {
    code: 'CONTINUUM_UPSTREAM_STREAM_ABORTED',
    message: 'Upstream closed the stream before it finished',
  }
  const event = {
    id: 'c1',
    choices: [
      { index: 0, delta: { content: encryptValue(response, 3, '/choices/0/delta/content', 'Hi', iv) } },
    ],
  }
  // Two OpenAI chunks of one upstream read, in their plain SSE framing (§6.1).
  const batchPlaintext =
    'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
    'data: {"id":"c1","choices":[{"index":0,"delta":{"content":" there"}}]}\n\n'
  const server = loadAgreementPrivateKey(hex(32, 0x40).toString('base64url'))
  const client = loadAgreementPrivateKey(hex(32, 0x60).toString('base64url'))
  const agreed = deriveAgreedKey(
    'srv',
    client.privateKey,
    server.publicKey,
    client.publicKeyBytes,
    server.publicKeyBytes,
  )
  return {
    fieldKey: { keyId: 'k1', keyHex: keyBytes.toString('hex'), sealKeyHex: key.sealKey.toString('hex') },
    field: {
      nonce,
      direction: 'request',
      sequence: 0,
      path: '/messages/0/content',
      value: 'Hello, world',
      ivHex: iv.toString('hex'),
      plaintext: canonicalJson('Hello, world'),
      aad: `cp2|k1|${nonce}|request|0|/messages/0/content`,
      ciphertext: fieldCiphertext,
    },
    requestSeal: {
      method: 'POST',
      routePath: '/v1/chat/completions',
      search,
      canonicalQuery: canonicalQuery(search),
      timestamp: '1700000000000',
      headers: requestHeaders,
      sealedHeaders: bound.sealedHeaders,
      body,
      canonicalBody: canonicalJson(body),
      meta,
      seal: computeSeal(request, 0, 'request', meta, body),
    },
    responseSeal: {
      status: 200,
      body: { id: 'x', usage: { total_tokens: 3 } },
      seal: computeSeal(response, 0, 'response', '200', { id: 'x', usage: { total_tokens: 3 } }),
    },
    eventSeal: { sequence: 3, eventName: '', event, seal: computeSeal(response, 3, 'event', '', event) },
    endMarker: { events: 4, marker: endMarker(response, 4) },
    failureMarker: { events: 2, failure, marker: failureMarker(response, 2, failure) },
    batchFrame: {
      first: 4,
      events: 2,
      ivHex: iv.toString('hex'),
      aad: `cp2|k1|${nonce}|response|4|continuum.batch|2`,
      plaintext: batchPlaintext,
      frame: JSON.parse(sealBatch(response, 4, 2, batchPlaintext, iv)),
    },
    errorSeal: { status: 400, body: errorBody, seal: sealError(response, 400, errorBody) },
    agreement: {
      serverPrivateHex: hex(32, 0x40).toString('hex'),
      serverPublic: server.publicKeyBytes.toString('base64url'),
      clientPrivateHex: hex(32, 0x60).toString('hex'),
      clientPublic: client.publicKeyBytes.toString('base64url'),
      keyId: 'srv',
      fieldKeyHex: agreed.aesKey.toString('hex'),
      sealKeyHex: agreed.sealKey.toString('hex'),
    },
  }
}
