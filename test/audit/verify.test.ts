import { join } from 'node:path'
import { AuditLog, FileAuditSink, generateAuditKeyPair, verifyAuditLog } from 'continuum-proxy/audit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readLines, sampleInput, temporaryFolder, writeLines, writeLog } from './helpers'

describe('verifyAuditLog', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('accepts an untouched log of N records', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 25)
    expect(lines).toHaveLength(25)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result).toMatchObject({ ok: true, records: 25, lastSeq: 24, dropped: 0 })
    expect(result.firstBad).toBeUndefined()
    expect(result.lastHash).toBe(JSON.parse(lines[24]!).hash)
    // The raw base64 public key verifies the same log.
    expect((await verifyAuditLog(path, keys.publicKeyRaw)).ok).toBe(true)
  })

  it('detects an edited field and names the record', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 10)
    const record = JSON.parse(lines[4]!)
    record.outcome = { status: 'success', httpStatus: 500 }
    record.who.subject = 'someone-else'
    lines[4] = JSON.stringify(record)
    await writeLines(path, lines)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result.ok).toBe(false)
    expect(result.records).toBe(4)
    expect(result.firstBad).toMatchObject({ line: 5, seq: 4, reason: 'edited' })
  })

  it('detects an edited record whose hash was recomputed, by its signature', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 6)
    const { createHash } = await import('node:crypto')
    const { strictCanonicalJson } = await import('../../src/audit')
    const { hash: _hash, signature, ...body } = JSON.parse(lines[2]!)
    body.why = 'forged'
    const hash = createHash('sha256').update(strictCanonicalJson(body)).digest('hex')
    lines[2] = JSON.stringify({ ...body, hash, signature })
    await writeLines(path, lines)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result.firstBad).toMatchObject({ line: 3, seq: 2, reason: 'bad_signature' })
  })

  it('detects a deleted record in the middle and at the start', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 10)
    await writeLines(path, [...lines.slice(0, 3), ...lines.slice(4)])
    const middle = await verifyAuditLog(path, keys.publicKeyPem)
    expect(middle.firstBad).toMatchObject({ line: 4, seq: 4, reason: 'missing' })
    expect(middle.firstBad?.message).toContain('seq 3 is missing')

    await writeLines(path, lines.slice(1))
    const start = await verifyAuditLog(path, keys.publicKeyPem)
    expect(start.firstBad).toMatchObject({ line: 1, seq: 1, reason: 'missing' })
  })

  it('detects records cut off the end when the expected last seq is known', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 8)
    await writeLines(path, lines.slice(0, 6))
    expect((await verifyAuditLog(path, keys.publicKeyPem)).ok).toBe(true)
    const result = await verifyAuditLog(path, keys.publicKeyPem, { expectLastSeq: 7 })
    expect(result).toMatchObject({ ok: false, records: 6 })
    expect(result.firstBad).toMatchObject({ line: 7, seq: 6, reason: 'missing' })
  })

  // The attack: someone who can write the log but not sign cuts the records of their own requests
  // off the end. A restarted proxy reads the new last line and goes on from there, so the log
  // soon reaches the kept seq again, with other records under it, and a check of the seq alone
  // passed. The head kept elsewhere has the hash too: the record of that seq must carry it.
  it('detects a cut-off end that a restarted writer has filled again, by the kept head hash', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 10)
    const head = JSON.parse(lines[9]!) as { seq: number; hash: string }
    await writeLines(path, lines.slice(0, 7))
    const restarted = await AuditLog.open({
      sink: new FileAuditSink({ path }),
      privateKey: keys.privateKeyPem,
    })
    for (let index = 0; index < 5; index += 1) restarted.record(sampleInput(index))
    await restarted.close()
    expect(await verifyAuditLog(path, keys.publicKeyPem, { expectLastSeq: head.seq })).toMatchObject({
      ok: true,
    })
    const result = await verifyAuditLog(path, keys.publicKeyPem, {
      expectLastSeq: head.seq,
      expectLastHash: head.hash,
    })
    expect(result).toMatchObject({ ok: false, records: 9, lastSeq: 8 })
    expect(result.firstBad).toMatchObject({ line: 10, seq: 9, reason: 'missing' })
    expect(result.firstBad?.message).toContain('cut off')
    // The untouched log passes the same check, and a log that goes on past the head too.
    const { keys: otherKeys, path: otherPath, lines: otherLines } = await writeLog(folder.path, 12, 'b.jsonl')
    const otherHead = JSON.parse(otherLines[9]!) as { seq: number; hash: string }
    expect(
      await verifyAuditLog(otherPath, otherKeys.publicKeyPem, {
        expectLastSeq: otherHead.seq,
        expectLastHash: otherHead.hash,
      }),
    ).toMatchObject({ ok: true, records: 12 })
  })

  it('refuses verification options that would silently check nothing', async () => {
    const { keys, path } = await writeLog(folder.path, 2)
    const options = [
      { expectLastSeq: Number.NaN },
      { expectLastSeq: -1 },
      { expectLastSeq: 1.5 },
      { firstSeq: Number.NaN },
      { firstSeq: -2 },
      { expectLastHash: 'ab'.repeat(32) },
      { expectLastSeq: 1, expectLastHash: 'not hex' },
    ]
    for (const option of options) {
      await expect(verifyAuditLog(path, keys.publicKeyPem, option as never)).rejects.toMatchObject({
        code: 'CONTINUUM_INVALID_OPTIONS',
      })
    }
  })

  it('detects two swapped records as reordered', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 10)
    const swapped = [...lines]
    ;[swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!]
    await writeLines(path, swapped)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result.firstBad).toMatchObject({ line: 6, seq: 6, reason: 'reordered' })
    expect(result.firstBad?.message).toContain('line 7')
  })

  it('detects a duplicated record as reordered', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 5)
    await writeLines(path, [...lines.slice(0, 3), lines[1]!, ...lines.slice(3)])
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result.firstBad).toMatchObject({ line: 4, seq: 1, reason: 'reordered' })
  })

  it('detects a truncated signature on the last record', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 7)
    const last = JSON.parse(lines[6]!)
    last.signature = last.signature.slice(0, 40)
    lines[6] = JSON.stringify(last)
    await writeLines(path, lines)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result).toMatchObject({ ok: false, records: 6 })
    expect(result.firstBad).toMatchObject({ line: 7, seq: 6, reason: 'bad_signature' })
  })

  it('detects a torn last line as malformed', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 4)
    lines[3] = lines[3]!.slice(0, 50)
    await writeLines(path, lines)
    const result = await verifyAuditLog(path, keys.publicKeyPem)
    expect(result.firstBad).toMatchObject({ line: 4, seq: undefined, reason: 'malformed' })
  })

  it('rejects a log signed with another key, naming the first record', async () => {
    const { path } = await writeLog(folder.path, 3)
    const other = generateAuditKeyPair()
    const result = await verifyAuditLog(path, other.publicKeyPem)
    expect(result.firstBad).toMatchObject({ line: 1, seq: 0, reason: 'unknown_key' })
    expect(result.records).toBe(0)
  })

  it('detects a chain spliced from two logs', async () => {
    const first = await writeLog(folder.path, 4, 'a.jsonl')
    const second = await writeLog(folder.path, 4, 'b.jsonl')
    const spliced = join(folder.path, 'spliced.jsonl')
    await writeLines(spliced, [...first.lines.slice(0, 2), ...second.lines.slice(2)])
    const result = await verifyAuditLog(spliced, [first.keys.publicKeyPem, second.keys.publicKeyPem])
    expect(result.firstBad).toMatchObject({ line: 3, seq: 2, reason: 'broken_chain' })
  })

  it('verifies lines given as an iterable, and an empty log', async () => {
    const { keys, lines } = await writeLog(folder.path, 3)
    expect(await verifyAuditLog(lines, keys.publicKeyRaw)).toMatchObject({ ok: true, records: 3 })
    expect(await verifyAuditLog([], keys.publicKeyRaw)).toMatchObject({ ok: true, records: 0 })
  })

  it('throws a clear error for a missing file and for a bad key', async () => {
    const keys = generateAuditKeyPair()
    await expect(verifyAuditLog(join(folder.path, 'nope.jsonl'), keys.publicKeyPem)).rejects.toMatchObject({
      code: 'CONTINUUM_AUDIT_LOG_UNREADABLE',
    })
    await expect(verifyAuditLog(folder.path, keys.publicKeyPem)).rejects.toMatchObject({
      code: 'CONTINUUM_AUDIT_LOG_UNREADABLE',
    })
    await expect(verifyAuditLog([], 'not-a-key')).rejects.toMatchObject({
      code: 'CONTINUUM_AUDIT_KEY_INVALID',
    })
  })

  it('reads records that span a restart as one chain', async () => {
    const { keys, path } = await writeLog(folder.path, 3)
    const { AuditLog, FileAuditSink } = await import('../../src/audit')
    const { sampleInput } = await import('./helpers')
    const audit = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeySeed })
    expect(audit.head.seq).toBe(2)
    audit.record(sampleInput(3))
    audit.record(sampleInput(4))
    await audit.close()
    const lines = await readLines(path)
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual([0, 1, 2, 3, 4])
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 5 })
  })
})
