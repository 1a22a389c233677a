/**
 * `bench pq`: what the post-quantum modes cost next to the classical ones, in the same run. Key
 * agreement: the classical X25519 derivation on each side, against the hybrid handshake's client
 * encapsulation (X25519 + ML-KEM-768, combiner, proof) and server decapsulation (the keyring's
 * whole handshake answer: decapsulation, proof check, sealed ticket), and what a session request
 * then costs the server (opening its ticket). Signatures: an Ed25519 audit record check against
 * the hybrid Ed25519 + ML-DSA-65 one, and the signing side of each (ML-DSA signs once per batch).
 * Header bytes close the table.
 */
import { randomBytes } from 'node:crypto'
import { HYBRID_AGREEMENT, Keyring } from 'continuum-proxy'
import {
  AuditLog,
  type AuditRecord,
  generateAuditKeyPair,
  MemoryAuditSink,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { generateHybridSigningKeys } from 'continuum-proxy/router'
import {
  clientProof,
  encapsulateHybrid,
  type HybridServerKey,
  parseHybridKey,
} from '../src/cipher/hybrid-agreement'
import { deriveAgreedKey, generateAgreementKeyPair, importPublicKey } from '../src/cipher/key-agreement'
import { loadMlKem768 } from '../src/internal/post-quantum'
import { fixed, median, quantile } from './stats'

/** Median and p99 of per-call microseconds over `rounds` calls after a warm-up. */
async function measure(
  run: (index: number) => unknown,
  rounds: number,
): Promise<{ p50: number; p99: number }> {
  for (let index = 0; index < Math.max(20, rounds / 10); index += 1) await run(index)
  const samples: number[] = []
  for (let index = 0; index < rounds; index += 1) {
    const started = performance.now()
    await run(index)
    samples.push((performance.now() - started) * 1000)
  }
  return { p50: median(samples), p99: quantile(samples, 0.99) }
}

async function signedLines(
  privateKey: Parameters<typeof AuditLog.open>[0]['privateKey'],
  count: number,
  maxBatch = 256,
) {
  const sink = new MemoryAuditSink()
  const audit = await AuditLog.open({ sink, privateKey, maxBatch })
  for (let index = 0; index < count; index += 1) {
    audit.record({
      event: 'request',
      requestId: `req-${index}`,
      who: { subject: 'user-42', tenant: 'acme' },
      what: { action: 'chat.completions' },
      resource: { model: 'llama-3.1-8b' },
    })
  }
  const started = performance.now()
  await audit.flush()
  const perRecord = ((performance.now() - started) * 1000) / count
  await audit.close()
  return { lines: sink.lines, perRecord }
}

export default async function pqBench(): Promise<void> {
  const mlKem = await loadMlKem768()
  // Classical: the server's static key, a client ephemeral key per agreement.
  const classicalServer = generateAgreementKeyPair()
  const serverPublic = importPublicKey(classicalServer.publicKeyBytes.toString('base64url'))
  const clientPair = generateAgreementKeyPair()
  const clientPublicText = clientPair.publicKeyBytes.toString('base64url')

  const keyring = await Keyring.create({
    agreementKeys: [
      { id: 'pq', privateKey: randomBytes(32).toString('base64url'), algorithm: HYBRID_AGREEMENT },
    ],
  })
  const server: HybridServerKey = parseHybridKey(
    keyring.published() as unknown as Record<string, unknown>,
    'pq',
  )
  const policy = { ttlMs: 3_600_000, maxRequests: 1_000_000, windowMs: 300_000 }
  const handshakeBody = () => {
    const { clientPublic, cipherText, secrets } = encapsulateHybrid(server, mlKem, generateAgreementKeyPair())
    const timestamp = Date.now()
    return {
      keyId: 'pq',
      publicKey: clientPublic.toString('base64url'),
      cipherText: cipherText.toString('base64url'),
      timestamp,
      proof: clientProof(secrets.confirmKey, 'pq', timestamp),
    }
  }
  const bodies = Array.from({ length: 400 }, handshakeBody)
  const tickets = bodies.slice(0, 260).map((body) => String(keyring.handshake(body, policy).body.session))

  // Each ticket once, so every call opens it rather than hitting the keyring's cache.
  let unseen = 0
  const rows: [string, { p50: number; p99: number }][] = [
    [
      'classical client: ephemeral X25519 key + derivation',
      await measure(() => {
        const ephemeral = generateAgreementKeyPair()
        deriveAgreedKey(
          'k',
          ephemeral.privateKey,
          serverPublic.key,
          ephemeral.publicKeyBytes,
          serverPublic.bytes,
        )
      }, 2000),
    ],
    [
      'classical server: import client key + derivation',
      await measure(() => {
        const peer = importPublicKey(clientPublicText)
        deriveAgreedKey('k', classicalServer.privateKey, peer.key, peer.bytes, classicalServer.publicKeyBytes)
      }, 2000),
    ],
    [
      'hybrid client: encapsulation (ephemeral X25519 + ML-KEM-768 + combiner + proof)',
      await measure(handshakeBody, 400),
    ],
    [
      'hybrid server: handshake answer (decapsulation + proof check + sealed ticket)',
      await measure((index) => keyring.handshake(bodies[index % bodies.length], policy), 400),
    ],
    [
      'hybrid server: session request key (open ticket, first sight)',
      await measure(() => keyring.resolve('pq', tickets[unseen++]!), 200),
    ],
  ]
  console.log('| key agreement | p50 µs | p99 µs |')
  console.log('| --- | --- | --- |')
  for (const [name, result] of rows)
    console.log(`| ${name} | ${fixed(result.p50, 1)} | ${fixed(result.p99, 1)} |`)

  const classicalKeys = generateAuditKeyPair()
  const hybridKeys = await generateHybridSigningKeys()
  const classical = await signedLines(classicalKeys.privateKeyPem, 2000)
  // Batches of one: every record carries an ML-DSA signature (the writer's worst case).
  const hybrid = await signedLines(hybridKeys.privateKey, 100, 1)
  const hybridBatched = await signedLines(hybridKeys.privateKey, 2000)
  const verify = (lines: string[], key: Parameters<typeof verifyAuditLog>[1], rounds: number) =>
    measure(
      (index) =>
        verifyAuditLog([lines[index % lines.length]!], key, {
          firstSeq: (JSON.parse(lines[index % lines.length]!) as AuditRecord).seq,
          anchor: (JSON.parse(lines[index % lines.length]!) as AuditRecord).prevHash,
        }),
      rounds,
    )
  const signatureRows: [string, { p50: number; p99: number }][] = [
    ['audit record check: Ed25519', await verify(classical.lines, classicalKeys.publicKeyPem, 2000)],
    [
      'audit record check: hybrid Ed25519 + ML-DSA-65 (both)',
      await verify(hybrid.lines, hybridKeys.publicKey, 100),
    ],
  ]
  console.log('\n| signatures | p50 µs | p99 µs |')
  console.log('| --- | --- | --- |')
  for (const [name, result] of signatureRows)
    console.log(`| ${name} | ${fixed(result.p50, 1)} | ${fixed(result.p99, 1)} |`)
  console.log(
    `| audit record signing (background writer, mean): Ed25519 | ${fixed(classical.perRecord, 1)} | |`,
  )
  console.log(
    `| audit record signing (background writer, mean): hybrid, batches of 1 | ${fixed(hybrid.perRecord, 1)} | |`,
  )
  console.log(
    `| audit record signing (background writer, mean): hybrid, batches of 256 | ${fixed(hybridBatched.perRecord, 1)} | |`,
  )

  const handshakeBytes = Buffer.byteLength(JSON.stringify(bodies[0]))
  console.log('\n| bytes on the wire | classical | hybrid |')
  console.log('| --- | --- | --- |')
  console.log(
    `| x-continuum-ephemeral-key per request | ${clientPublicText.length} | ${tickets[0]!.length} (session ticket) |`,
  )
  console.log(`| key document | ~150 | ${Buffer.byteLength(JSON.stringify(keyring.published()))} |`)
  console.log(`| handshake request body, once per session | none | ${handshakeBytes} |`)
}
