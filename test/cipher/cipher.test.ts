import { randomBytes } from 'node:crypto'
import { ContinuumError, type ErrorCode, MemoryStateStore } from 'continuum-proxy'
import { describe, expect, it } from 'vitest'
import {
  type CipherContext,
  canonicalJson,
  compilePlainFields,
  createFieldKey,
  endMarker,
  generateAgreementKeyPair,
  isCiphertext,
  Keyring,
  openEvent,
  openRequest,
  openResponse,
  ReplayGuard,
  sealEvent,
  sealRequest,
  sealResponse,
  verifyEndMarker,
} from '../../src/cipher'

const key = createFieldKey('k1', randomBytes(32))
const nonce = randomBytes(16).toString('base64url')
const requestContext: CipherContext = { key, nonce, direction: 'request' }
const tree = compilePlainFields(['model', 'stream', 'max_tokens', 'messages.*.role'])
const body = {
  model: 'llama-3',
  stream: false,
  max_tokens: 64,
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: [{ type: 'text', text: 'secret question' }], name: 'alice' },
  ],
  tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }],
}
const meta = 'POST /v1/chat/completions;1700000000000'

function expectCode(run: () => unknown, code: ErrorCode): void {
  try {
    run()
  } catch (error) {
    expect(ContinuumError.isInstance(error) && error.code).toBe(code)
    expect((error as Error).message).not.toContain('secret')
    return
  }
  throw new Error(`expected ${code}`)
}

describe('request encryption', () => {
  const sealed = sealRequest(tree, body, requestContext, meta)
  const wire = sealed.body as typeof body & Record<string, unknown>

  it('encrypts everything off the allow-list and keeps routing fields plain', () => {
    expect(wire.model).toBe('llama-3')
    expect(wire.max_tokens).toBe(64)
    expect(wire.messages[0]!.role).toBe('system')
    expect(isCiphertext(wire.messages[0]!.content)).toBe(true)
    expect(isCiphertext(wire.messages[1]!.name)).toBe(true)
    expect(isCiphertext(wire.tools)).toBe(true)
    expect(JSON.stringify(wire)).not.toContain('secret')
  })

  it('round-trips', () => {
    expect(openRequest(tree, wire, requestContext, meta, sealed.seal)).toEqual(body)
  })

  it('detects a changed plain field, route or timestamp', () => {
    expectCode(
      () => openRequest(tree, { ...wire, model: 'other' }, requestContext, meta, sealed.seal),
      'CONTINUUM_INTEGRITY_FAILED',
    )
    expectCode(
      () => openRequest(tree, { ...wire, max_tokens: 4096 }, requestContext, meta, sealed.seal),
      'CONTINUUM_INTEGRITY_FAILED',
    )
    expectCode(
      () => openRequest(tree, wire, requestContext, 'POST /v1/completions;1700000000000', sealed.seal),
      'CONTINUUM_INTEGRITY_FAILED',
    )
    expectCode(() => openRequest(tree, wire, requestContext, meta, undefined), 'CONTINUUM_INTEGRITY_FAILED')
  })

  it('detects a field moved to another path even with a recomputed seal', () => {
    const messages = wire.messages.map((message) => ({ ...message }))
    messages[1]!.content = messages[0]!.content
    const moved = { ...wire, messages }
    // An attacker without the key cannot recompute the seal; simulate a holder of the seal key only.
    const resealed = sealRequest(compilePlainFields(['*']), moved, requestContext, meta).seal
    expectCode(() => openRequest(tree, moved, requestContext, meta, resealed), 'CONTINUUM_DECRYPTION_FAILED')
  })

  it('rejects a ciphertext from another request or direction', () => {
    const other: CipherContext = { key, nonce: randomBytes(16).toString('base64url'), direction: 'request' }
    const otherSealed = sealRequest(tree, wire, other, meta)
    expectCode(() => openRequest(tree, wire, other, meta, otherSealed.seal), 'CONTINUUM_INTEGRITY_FAILED')
    const asResponse: CipherContext = { ...requestContext, direction: 'response' }
    expectCode(
      () =>
        openResponse(
          tree,
          wire,
          asResponse,
          200,
          sealResponse(compilePlainFields(['*']), wire, asResponse, 200).seal,
        ),
      'CONTINUUM_DECRYPTION_FAILED',
    )
  })

  it('refuses plaintext where a ciphertext is required', () => {
    const plain = { ...wire, tools: [{ name: 'x' }] }
    const seal = sealRequest(compilePlainFields(['*']), plain, requestContext, meta).seal
    expectCode(() => openRequest(tree, plain, requestContext, meta, seal), 'CONTINUUM_FIELD_NOT_ENCRYPTED')
  })

  it('rejects a tampered or malformed ciphertext', () => {
    const content = wire.messages[0]!.content as unknown as string
    const flipped = content.slice(0, -2) + (content.at(-2) === 'A' ? 'B' : 'A') + content.at(-1)
    const tampered = { ...wire, messages: [{ ...wire.messages[0]!, content: flipped }, wire.messages[1]!] }
    const seal = sealRequest(compilePlainFields(['*']), tampered, requestContext, meta).seal
    expectCode(() => openRequest(tree, tampered, requestContext, meta, seal), 'CONTINUUM_DECRYPTION_FAILED')
    const malformed = {
      ...tampered,
      messages: [{ ...wire.messages[0]!, content: 'cp2.k1.!!' }, wire.messages[1]!],
    }
    const seal2 = sealRequest(compilePlainFields(['*']), malformed, requestContext, meta).seal
    expectCode(
      () => openRequest(tree, malformed, requestContext, meta, seal2),
      'CONTINUUM_MALFORMED_CIPHERTEXT',
    )
  })
})

describe('stream events', () => {
  const context: CipherContext = { key, nonce, direction: 'response' }
  const eventTree = compilePlainFields(['id', 'choices.*.index', 'choices.*.finish_reason'])
  const events = [0, 1, 2].map((index) => ({
    id: 'c1',
    choices: [{ index: 0, delta: { content: `part ${index}` } }],
  }))
  const sealed = events.map((event, index) => sealEvent(eventTree, event, context, index, ''))

  it('round-trips in order and ends with a verified marker', () => {
    expect(sealed.map((event, index) => openEvent(eventTree, event, context, index, ''))).toEqual(events)
    verifyEndMarker(context, 3, endMarker(context, 3))
  })

  it('detects reordering, dropping and truncation', () => {
    expectCode(() => openEvent(eventTree, sealed[2]!, context, 1, ''), 'CONTINUUM_RESPONSE_INTEGRITY_FAILED')
    expectCode(
      () => verifyEndMarker(context, 2, endMarker(context, 3)),
      'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
    )
    expectCode(
      () => verifyEndMarker(context, 3, { continuum_end: { events: 3 }, continuum_seal: 'x'.repeat(43) }),
      'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
    )
  })
})

describe('Keyring', () => {
  it('rotates with a grace period, then reports retired keys distinctly', () => {
    let now = 1_000
    const keyring = new Keyring({
      keys: [{ id: 'old', key: randomBytes(32) }],
      graceMs: 100,
      clock: { now: () => now },
    })
    keyring.rotate({ id: 'new', key: randomBytes(32).toString('base64url') })
    expect(keyring.primary?.id).toBe('new')
    expect(keyring.resolve('old').id).toBe('old')
    now += 101
    expectCode(() => keyring.resolve('old'), 'CONTINUUM_KEY_RETIRED')
    expectCode(() => keyring.resolve('nope'), 'CONTINUUM_KEY_UNKNOWN')
    keyring.retire('new')
    expectCode(() => keyring.resolve('new'), 'CONTINUUM_KEY_RETIRED')
  })

  it('validates options without echoing key material', () => {
    expectCode(
      () => new Keyring({ keys: [{ id: 'bad id', key: randomBytes(32) }] }),
      'CONTINUUM_INVALID_OPTIONS',
    )
    expectCode(() => new Keyring({ keys: [{ id: 'short', key: 'c2VjcmV0' }] }), 'CONTINUUM_INVALID_OPTIONS')
    expectCode(() => new Keyring({}), 'CONTINUUM_INVALID_OPTIONS')
  })

  it('agrees a key with a client ephemeral key', async () => {
    const server = generateAgreementKeyPair()
    const keyring = new Keyring({ agreementKeys: [{ id: 'srv', privateKey: server.privateKey }] })
    const published = keyring.published()!
    expect(published.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/)
    const client = generateAgreementKeyPair()
    const { deriveAgreedKey, importPublicKey } = await import('../../src/cipher')
    const clientKey = deriveAgreedKey(
      'srv',
      client.privateKey,
      importPublicKey(published.publicKey).key,
      client.publicKeyBytes,
      server.publicKeyBytes,
    )
    const serverKey = keyring.resolve('srv', client.publicKeyBytes.toString('base64url'))
    expect(serverKey.sealKey.equals(clientKey.sealKey)).toBe(true)
    expectCode(() => keyring.resolve('srv'), 'CONTINUUM_KEY_AGREEMENT_FAILED')
    expectCode(() => keyring.resolve('srv', 'AAAA'), 'CONTINUUM_KEY_AGREEMENT_FAILED')
    expectCode(
      () => keyring.resolve('srv', Buffer.alloc(32).toString('base64url')),
      'CONTINUUM_KEY_AGREEMENT_FAILED',
    )
  })
})

describe('ReplayGuard', () => {
  it('rejects stale timestamps and reused nonces', async () => {
    const now = 10_000_000
    const guard = new ReplayGuard({
      store: new MemoryStateStore(),
      windowMs: 1000,
      clock: { now: () => now },
    })
    expect(() => guard.checkFreshness(nonce, String(now - 500))).not.toThrow()
    expectCode(() => guard.checkFreshness(nonce, String(now - 5000)), 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW')
    expectCode(() => guard.checkFreshness(nonce, 'soon'), 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW')
    expectCode(() => guard.checkFreshness('short', String(now)), 'CONTINUUM_INTEGRITY_FAILED')
    await guard.remember('k1', nonce)
    await expect(guard.remember('k1', nonce)).rejects.toMatchObject({ code: 'CONTINUUM_REPLAY_DETECTED' })
  })
})

describe('canonicalJson', () => {
  it('sorts keys by code unit and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], é: 2, Z: undefined, c: { y: 1.5, x: -0 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"x":0,"y":1.5},"é":2}',
    )
  })
})

describe('NonceWindow (the default replay memory; flood cases in test/hardening/replay-flood.test.ts)', () => {
  it('ReplayGuard without a store refuses a reused nonce', async () => {
    const guard = new ReplayGuard({ windowMs: 1000, clock: { now: () => 0 } })
    await guard.remember('k1', nonce)
    await expect(guard.remember('k1', nonce)).rejects.toMatchObject({ code: 'CONTINUUM_REPLAY_DETECTED' })
    await guard.remember('k2', nonce)
  })
})
