/**
 * The audit log signed with a hybrid key (Ed25519 + ML-DSA-65) through the public API and the
 * CLI: every record signed with Ed25519, the last of each batch also with ML-DSA (covering the
 * batch through the chain), both required: a record with only one valid signature, a stripped or
 * swapped ML-DSA signature, a tail no ML-DSA signature covers (cut or forged), and records
 * re-labelled as classical are refused.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AuditLog,
  type AuditRecord,
  generateAuditKeyPair,
  MemoryAuditSink,
  strictCanonicalJson,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { generateHybridSigningKeys } from 'continuum-proxy/router'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'
import { signedBytes } from '../../src/audit/record-chain'
import { sampleInput, temporaryFolder, writeLines } from './helpers'

type Keys = Awaited<ReturnType<typeof generateHybridSigningKeys>>

async function hybridLog(keys: Keys, count = 3, maxBatch?: number): Promise<string[]> {
  const sink = new MemoryAuditSink()
  const audit = await AuditLog.open({
    sink,
    privateKey: keys.privateKey,
    ...(maxBatch === undefined ? {} : { maxBatch }),
  })
  for (let index = 0; index < count; index += 1) audit.record(sampleInput(index))
  await audit.close()
  return sink.lines
}

const parse = (line: string) => JSON.parse(line) as AuditRecord & Record<string, unknown>

describe('hybrid audit signatures', () => {
  let keys: Keys
  let other: Keys
  // One batch of three records (ML-DSA on the last), and three batches of one (ML-DSA on each).
  let lines: string[]
  let single: string[]

  beforeAll(async () => {
    keys = await generateHybridSigningKeys()
    other = await generateHybridSigningKeys()
    lines = await hybridLog(keys)
    single = await hybridLog(keys, 3, 1)
  })

  it('writes both signatures under a hybrid key id and verifies with the hybrid public key', async () => {
    const record = parse(lines[2]!)
    expect(record.keyId).toMatch(/^hybrid-[0-9a-f]{16}$/)
    expect(Buffer.from(record.signature, 'base64')).toHaveLength(64)
    expect(Buffer.from(record.pqSignature!, 'base64')).toHaveLength(3309)
    expect(lines.slice(0, 2).map((line) => parse(line).pqSignature)).toEqual([undefined, undefined])
    expect(single.every((line) => parse(line).pqSignature !== undefined)).toBe(true)
    expect(await verifyAuditLog(single, keys.publicKey)).toMatchObject({ ok: true, records: 3 })
    const audit = new AuditLog({ sink: new MemoryAuditSink(), privateKey: keys.privateKey })
    expect(audit.keyId).toBe(record.keyId)
    await audit.close()
    expect(await verifyAuditLog(lines, keys.publicKey)).toMatchObject({ ok: true, records: 3 })
  })

  it('refuses an ML-DSA signature that is another record’s, another key’s, or garbage', async () => {
    const foreign = parse((await hybridLog(other, 1))[0]!).pqSignature
    for (const pqSignature of [parse(single[2]!).pqSignature, foreign, 'AAAA']) {
      const tampered = [single[0]!, JSON.stringify({ ...parse(single[1]!), pqSignature }), single[2]!]
      const result = await verifyAuditLog(tampered, keys.publicKey)
      expect(result.firstBad).toMatchObject({ seq: 1, reason: 'bad_signature' })
      expect(result.records).toBe(1)
    }
  })

  it('refuses records no ML-DSA signature covers: stripped, cut before it, or a forged tail', async () => {
    const stripped = [
      lines[0]!,
      lines[1]!,
      JSON.stringify((({ pqSignature: _dropped, ...rest }) => rest)(parse(lines[2]!))),
    ]
    for (const log of [stripped, lines.slice(0, 2)]) {
      const result = await verifyAuditLog(log, keys.publicKey)
      expect(result).toMatchObject({
        ok: false,
        records: 0,
        firstBad: { seq: 0, line: 1, reason: 'bad_signature' },
      })
    }
    // A record appended by someone holding (or having broken) only the Ed25519 key.
    const { createHash, createPrivateKey, sign } = await import('node:crypto')
    const previous = parse(lines[2]!)
    const body = { ...parse(lines[0]!), seq: 3, prevHash: previous.hash }
    const { hash: _hash, signature: _signature, pqSignature: _pq, ...unsigned } = body
    const bytes = signedBytes(unsigned as AuditRecord)
    const forged = {
      ...unsigned,
      hash: createHash('sha256').update(bytes).digest('hex'),
      signature: sign(null, bytes, createPrivateKey(keys.privateKey.ed25519)).toString('base64'),
    }
    // Written as the writer writes lines, so the record fails for its missing ML-DSA cover alone.
    const result = await verifyAuditLog([...lines, strictCanonicalJson(forged)], keys.publicKey)
    expect(result).toMatchObject({
      ok: false,
      records: 3,
      lastSeq: 2,
      firstBad: { seq: 3, reason: 'bad_signature' },
    })
  })

  it('refuses a record whose Ed25519 signature is wrong even when its ML-DSA signature is valid', async () => {
    const variant = { ...parse(lines[1]!), signature: parse(lines[2]!).signature }
    const result = await verifyAuditLog([lines[0]!, JSON.stringify(variant), lines[2]!], keys.publicKey)
    expect(result.firstBad).toMatchObject({ seq: 1, reason: 'bad_signature' })
  })

  it('refuses records re-labelled as classical, and a hybrid log checked with the Ed25519 key alone', async () => {
    // Someone holding (or having broken) the Ed25519 key writes classical records into the chain.
    const { createPrivateKey, sign } = await import('node:crypto')
    const edKey = createPrivateKey(keys.privateKey.ed25519)
    const { pqSignature: _dropped, hash: _hash, signature: _signature, ...body } = parse(lines[0]!)
    const relabelled = { ...body, keyId: (await classicalKeyId(keys)) as string }
    const bytes = signedBytes(relabelled as AuditRecord)
    const { createHash } = await import('node:crypto')
    const forged = {
      ...relabelled,
      hash: createHash('sha256').update(bytes).digest('hex'),
      signature: sign(null, bytes, edKey).toString('base64'),
    }
    const result = await verifyAuditLog([JSON.stringify(forged)], keys.publicKey)
    expect(result.firstBad).toMatchObject({ seq: 0, reason: 'unknown_key' })
    const classical = await verifyAuditLog(lines, keys.publicKey.ed25519)
    expect(classical.firstBad).toMatchObject({ seq: 0, reason: 'unknown_key' })
    // A classical log is unaffected.
    const plain = generateAuditKeyPair()
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink, privateKey: plain.privateKeyPem })
    audit.record(sampleInput(0))
    await audit.close()
    expect(parse(sink.lines[0]!).pqSignature).toBeUndefined()
    expect(await verifyAuditLog(sink.lines, plain.publicKeyPem)).toMatchObject({ ok: true })
  })

  describe('the CLI', () => {
    let folder: Awaited<ReturnType<typeof temporaryFolder>>
    beforeAll(async () => {
      folder = await temporaryFolder()
    })
    afterAll(async () => {
      await folder.remove()
    })

    it('verifies a hybrid log with the public key file of `model keygen --hybrid`, and fails a stripped one', async () => {
      const io = { stdout: () => {}, stderr: () => {} }
      const prefix = join(folder.path, 'audit')
      expect(await runCli(['model', 'keygen', '--out', prefix, '--hybrid'], io)).toBe(0)
      const privateKey = JSON.parse(await readFile(`${prefix}.key`, 'utf8'))
      const written = await hybridLog({
        privateKey,
        publicKey: JSON.parse(await readFile(`${prefix}.pub`, 'utf8')),
      })
      const good = join(folder.path, 'good.jsonl')
      await writeLines(good, written)
      expect(await runCli(['audit', 'verify', good, '--public-key', `${prefix}.pub`], io)).toBe(0)
      const stripped = join(folder.path, 'stripped.jsonl')
      await writeLines(stripped, [
        written[0]!,
        JSON.stringify((({ pqSignature: _dropped, ...rest }) => rest)(parse(written[1]!))),
      ])
      expect(await runCli(['audit', 'verify', stripped, '--public-key', `${prefix}.pub`], io)).toBe(1)
    })
  })
})

/** The key id a classical log signed with the hybrid key's Ed25519 half would carry. */
async function classicalKeyId(keys: Keys): Promise<string> {
  const { auditKeyId, parseAuditPublicKey } = await import('continuum-proxy/audit')
  return auditKeyId(parseAuditPublicKey(keys.publicKey.ed25519))
}
