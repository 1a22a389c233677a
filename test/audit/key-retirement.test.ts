/**
 * Regression: a retired audit key could append after a rotation. The verifier accepted any given
 * key at any point of the chain, so whoever held a leaked retired key (or a host still configured
 * with it) could write records after the successor took over, and they verified; only a head kept
 * elsewhere caught it. A key's validity now ends at the first record its successor signs, and a
 * hybrid key retires its own Ed25519 half. Legitimate rotations keep verifying.
 */
import { createHash, createPrivateKey, sign } from 'node:crypto'
import { appendFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AuditLog,
  type AuditRecord,
  FileAuditSink,
  generateAuditKeyPair,
  MemoryAuditSink,
  strictCanonicalJson,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { generateHybridSigningKeys } from 'continuum-proxy/router'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'
import { signedBytes } from '../../src/audit/record-chain'
import { readLines, sampleInput, temporaryFolder } from './helpers'

type SigningKey = ConstructorParameters<typeof AuditLog>[0]['privateKey']

/** Opens the file with `privateKey`, continues its chain with `count` records and closes it. */
async function append(path: string, privateKey: SigningKey, count: number, from = 0): Promise<void> {
  const audit = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey })
  for (let index = 0; index < count; index += 1) audit.record(sampleInput(from + index))
  await audit.close()
}

/** A record chained after `previous`, signed with the Ed25519 key alone, as an attacker holding it writes it. */
function forgeAfter(previous: AuditRecord, keyId: string, ed25519Pem: string): string {
  const { hash: _hash, signature: _signature, pqSignature: _pq, ...body } = previous
  const unsigned = {
    ...body,
    seq: previous.seq + 1,
    prevHash: previous.hash,
    keyId,
    who: { subject: 'attacker' },
  }
  const bytes = signedBytes(unsigned as AuditRecord)
  return strictCanonicalJson({
    ...unsigned,
    hash: createHash('sha256').update(bytes).digest('hex'),
    signature: sign(null, bytes, createPrivateKey(ed25519Pem)).toString('base64'),
  })
}

describe('audit key retirement', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('refuses records a retired key appends after its successor took over, naming the seq', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const old = generateAuditKeyPair()
    const successor = generateAuditKeyPair()
    await append(path, old.privateKeyPem, 3)
    await append(path, successor.privateKeyPem, 2, 3)
    const both = [old.publicKeyPem, successor.publicKeyPem]
    expect(await verifyAuditLog(path, both)).toMatchObject({ ok: true, records: 5, lastSeq: 4 })

    // The leaked old key continues the chain through the real writer: hash and signatures are
    // right, the seq and prevHash follow, only the key is one the chain had moved on from.
    await append(path, old.privateKeyPem, 1, 5)
    for (const keys of [both, [...both].reverse()]) {
      const result = await verifyAuditLog(path, keys)
      expect(result).toMatchObject({
        ok: false,
        records: 5,
        lastSeq: 4,
        firstBad: { line: 6, seq: 5, reason: 'retired_key' },
      })
      expect(result.firstBad?.message).toContain('seq 5')
      expect(result.firstBad?.message).toContain(old.keyId)
      expect(result.firstBad?.message).not.toContain('user-42')
    }

    const out: string[] = []
    const code = await runCli(
      ['audit', 'verify', path, '--public-key', successor.publicKeyRaw, '--public-key', old.publicKeyRaw],
      { stdout: (text) => out.push(text), stderr: () => {} },
    )
    expect(code).toBe(1)
    expect(out.join('\n')).toContain('FAILED: line 6, seq 5: retired_key')
  })

  it('keeps rotations verifying: restarts under one key, two rotations, a log started after a rotation', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const [first, second, third] = [generateAuditKeyPair(), generateAuditKeyPair(), generateAuditKeyPair()]
    await append(path, first.privateKeyPem, 2)
    await append(path, first.privateKeyPem, 2, 2)
    await append(path, second.privateKeyPem, 2, 4)
    await append(path, second.privateKeyPem, 1, 6)
    await append(path, third.privateKeyPem, 2, 7)
    const keys = [third.publicKeyPem, first.publicKeyPem, second.publicKeyPem]
    expect(await verifyAuditLog(path, keys)).toMatchObject({ ok: true, records: 9, lastSeq: 8 })
    // Going back to the first key after the second is a retired key too, not a rotation.
    await append(path, second.privateKeyPem, 1, 9)
    expect((await verifyAuditLog(path, keys)).firstBad).toMatchObject({ seq: 9, reason: 'retired_key' })
    // A segment verified from its own anchor starts with whichever key signed it.
    const lines = await readLines(path)
    const anchor = (JSON.parse(lines[3]!) as AuditRecord).hash
    expect(await verifyAuditLog(lines.slice(4, 9), keys, { anchor, firstSeq: 4 })).toMatchObject({
      ok: true,
      records: 5,
    })
  })

  it('lets a classical key move to a hybrid key with the same Ed25519 half, never back', async () => {
    const hybrid = await generateHybridSigningKeys()
    const path = join(folder.path, 'audit.jsonl')
    await append(path, hybrid.privateKey.ed25519, 2)
    await append(path, hybrid.privateKey, 2, 2)
    const keys = [hybrid.publicKey.ed25519, hybrid.publicKey]
    expect(await verifyAuditLog(path, keys)).toMatchObject({ ok: true, records: 4 })

    // The writer given the Ed25519 half alone refuses to continue the hybrid tail.
    await expect(
      AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: hybrid.privateKey.ed25519 }),
    ).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_LOG_CORRUPT' })
    // Someone holding (or having broken) only the Ed25519 half appends classical records: refused,
    // whether or not the classical key signed before the hybrid one.
    const lines = await readLines(path)
    const last = JSON.parse(lines[3]!) as AuditRecord
    const classicalId = (JSON.parse(lines[0]!) as AuditRecord).keyId
    const forged = forgeAfter(last, classicalId, hybrid.privateKey.ed25519)
    await appendFile(path, `${forged}\n`)
    expect((await verifyAuditLog(path, keys)).firstBad).toMatchObject({ seq: 4, reason: 'retired_key' })
    const hybridOnly = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink: hybridOnly, privateKey: hybrid.privateKey })
    audit.record(sampleInput(0))
    await audit.close()
    const downgrade = forgeAfter(
      JSON.parse(hybridOnly.lines[0]!) as AuditRecord,
      classicalId,
      hybrid.privateKey.ed25519,
    )
    expect(await verifyAuditLog([...hybridOnly.lines, downgrade], keys)).toMatchObject({
      ok: false,
      records: 1,
      firstBad: { seq: 1, reason: 'retired_key' },
    })
  })
})
