import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger } from 'continuum-proxy'
import {
  type AuditDropEvent,
  AuditLog,
  type AuditSink,
  digestContent,
  FileAuditSink,
  generateAuditKeyPair,
  MemoryAuditSink,
  StreamAuditSink,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sampleInput, temporaryFolder } from './helpers'

/** Canonical JSON (RFC 8785) of the strings, integers and objects a record holds: members sorted. */
function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const members = Object.entries(value).filter(([, item]) => item !== undefined)
  members.sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
  return `{${members.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`
}

const keys = generateAuditKeyPair()

/** A sink whose writes wait until released, to hold records in the queue. */
class GatedSink implements AuditSink {
  readonly lines: string[] = []
  #release: (() => void) | undefined
  #gate: Promise<void> = new Promise((resolve) => {
    this.#release = resolve
  })
  release(): void {
    this.#release?.()
  }
  async write(lines: readonly string[]): Promise<void> {
    await this.#gate
    this.lines.push(...lines)
  }
}

describe('AuditLog', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('record() returns before anything is signed or written', async () => {
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink, privateKey: keys.privateKeySeed })
    audit.record(sampleInput(0))
    expect(sink.lines).toHaveLength(0)
    expect(audit.stats().queued).toBe(1)
    await audit.flush()
    expect(sink.lines).toHaveLength(1)
    expect(audit.stats()).toMatchObject({ queued: 0, written: 1, dropped: 0 })
    await audit.close()
  })

  it('writes the who, what, resource, why, outcome, timing, usage and verdict of a record', async () => {
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({
      sink,
      privateKey: keys.privateKeyPem,
      clock: { now: () => 1_700_000_000_000 },
    })
    audit.record(sampleInput(1, { startedAt: new Date(1_699_999_999_000), classification: ['pii'] }))
    await audit.close()
    const record = JSON.parse(sink.lines[0]!)
    expect(record).toMatchObject({
      v: 1,
      seq: 0,
      prevHash: '0'.repeat(64),
      keyId: keys.keyId,
      event: 'outcome',
      requestId: 'req-0',
      time: '2023-11-14T22:13:20.000Z',
      startedAt: '2023-11-14T22:13:19.000Z',
      who: { subject: 'user-42', delegation: [{ subject: 'agent-7', type: 'agent' }] },
      what: { action: 'chat.completions' },
      resource: { model: 'llama-3.1-8b', provider: 'vllm-local' },
      why: 'policy:default',
      outcome: { status: 'success', httpStatus: 200 },
      latencyMs: 12.5,
      usage: { totalTokens: 30 },
      scanner: { verdict: 'allow' },
      classification: ['pii'],
    })
    expect(record.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('never writes the plaintext of a request, only its digest', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const secretPrompt = 'my social security number is 078-05-1120'
    const body = { model: 'llama', messages: [{ role: 'user', content: secretPrompt }] }
    const digestKey = 'a-digest-key-kept-elsewhere'
    const audit = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
    audit.record(
      sampleInput(0, {
        what: { action: 'chat.completions', contentDigest: digestContent(body, { key: digestKey }) },
      }),
    )
    // Putting the content itself where a digest belongs is refused, not written.
    expect(() =>
      audit.record(sampleInput(0, { what: { action: 'chat', contentDigest: secretPrompt } })),
    ).toThrow(expect.objectContaining({ code: 'CONTINUUM_AUDIT_INVALID_RECORD' }))
    await audit.close()
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain(secretPrompt)
    expect(text).not.toContain('078-05-1120')
    expect(JSON.parse(text).what.contentDigest).toBe(digestContent(body, { key: digestKey }))
  })

  it('copies the input at record() time', async () => {
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink, privateKey: keys.privateKeyPem })
    const input = { ...sampleInput(0), who: { subject: 'alice' } }
    audit.record(input)
    ;(input.who as { subject: string }).subject = 'mallory'
    await audit.close()
    expect(JSON.parse(sink.lines[0]!).who.subject).toBe('alice')
  })

  it('cuts over-long client strings instead of failing', async () => {
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink, privateKey: keys.privateKeyPem, maxFieldLength: 16 })
    audit.record(sampleInput(0, { resource: { model: 'x'.repeat(10_000) } }))
    await audit.close()
    expect(JSON.parse(sink.lines[0]!).resource.model).toBe(`${'x'.repeat(16)}…`)
  })

  it('refuses inputs of the wrong shape with the field named', async () => {
    const audit = new AuditLog({ sink: new MemoryAuditSink(), privateKey: keys.privateKeyPem })
    const bad = [
      [{ ...sampleInput(0), event: 'other' }, 'event'],
      [{ ...sampleInput(1), outcome: undefined }, 'outcome'],
      [{ ...sampleInput(0), latencyMs: Number.NaN }, 'latencyMs'],
      [{ ...sampleInput(0), who: { subject: 42 } }, 'who.subject'],
      [{ ...sampleInput(0), attributes: { nested: {} } }, 'attributes.nested'],
    ] as const
    for (const [input, field] of bad) {
      expect(() => audit.record(input as never)).toThrow(
        expect.objectContaining({ code: 'CONTINUUM_AUDIT_INVALID_RECORD', details: { field } }),
      )
    }
    await audit.close()
  })

  it('drop_newest: a full queue drops new records, counts them and leaves a signed marker', async () => {
    const sink = new GatedSink()
    const drops: AuditDropEvent[] = []
    const warnings: Record<string, unknown>[] = []
    const audit = await AuditLog.open({
      sink,
      privateKey: keys.privateKeyPem,
      maxQueue: 3,
      maxBatch: 1,
      onDrop: (event) => drops.push(event),
      logger: { ...silentLogger, warn: (fields, message) => warnings.push({ message, ...fields }) },
    })
    audit.record(sampleInput(0, { requestId: 'a' }))
    await new Promise((resolve) => setImmediate(resolve))
    // The first record is now in flight; three more fill the queue, two more overflow.
    for (const requestId of ['b', 'c', 'd', 'e', 'f']) audit.record(sampleInput(0, { requestId }))
    expect(audit.stats()).toMatchObject({ queued: 3, dropped: 2 })
    expect(drops.map((drop) => drop.requestId)).toEqual(['e', 'f'])
    expect(drops.at(-1)).toMatchObject({ reason: 'queue_full', totalDropped: 2 })
    expect(warnings).toEqual([{ message: 'audit record dropped', reason: 'queue_full', totalDropped: 1 }])
    expect(audit.head.seq).toBe(-1)
    sink.release()
    await audit.close()
    const records = sink.lines.map((line) => JSON.parse(line))
    expect(audit.head).toEqual({ seq: 4, hash: records[4].hash })
    expect(records.map((record) => record.requestId ?? record.event)).toEqual([
      'a',
      'audit.dropped',
      'b',
      'c',
      'd',
    ])
    expect(records[1].attributes).toEqual({ dropped: 2, overflow: 'drop_newest' })
    const result = await verifyAuditLog(sink.lines, keys.publicKeyPem)
    expect(result).toMatchObject({ ok: true, records: 5, dropped: 2 })
  })

  it('drop_oldest: a full queue drops the oldest queued records', async () => {
    const sink = new GatedSink()
    const audit = await AuditLog.open({
      sink,
      privateKey: keys.privateKeyPem,
      maxQueue: 2,
      overflow: 'drop_oldest',
    })
    for (const requestId of ['a', 'b', 'c', 'd']) audit.record(sampleInput(0, { requestId }))
    expect(audit.stats()).toMatchObject({ queued: 2, dropped: 2 })
    sink.release()
    await audit.close()
    expect(sink.lines.map((line) => JSON.parse(line).requestId ?? 'marker')).toEqual(['marker', 'c', 'd'])
  })

  it('close() writes everything queued, then refuses new records', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const drops: AuditDropEvent[] = []
    const audit = await AuditLog.open({
      sink: new FileAuditSink({ path, fsync: 'never' }),
      privateKey: keys.privateKeyPem,
      maxBatch: 7,
      onDrop: (event) => drops.push(event),
    })
    for (let index = 0; index < 500; index += 1) audit.record(sampleInput(index))
    await audit.close()
    await audit.close()
    audit.record(sampleInput(0))
    expect(drops).toEqual([{ reason: 'closed', requestId: 'req-0', totalDropped: 1 }])
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({
      ok: true,
      records: 500,
      dropped: 0,
    })
  })

  it('keeps a failed batch and retries the same signed lines', async () => {
    let failures = 2
    const written: string[] = []
    const attempts: string[][] = []
    const errors: string[] = []
    const sink: AuditSink = {
      async write(lines) {
        attempts.push([...lines])
        if (failures-- > 0) throw new Error('disk full')
        written.push(...lines)
      },
    }
    const audit = await AuditLog.open({
      sink,
      privateKey: keys.privateKeyPem,
      retryDelayMs: 60_000,
      onError: (error) => errors.push(error.code),
    })
    audit.record(sampleInput(0))
    audit.record(sampleInput(1))
    await expect(audit.flush()).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_WRITE_FAILED' })
    audit.record(sampleInput(2))
    await expect(audit.flush()).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_WRITE_FAILED' })
    await audit.close()
    expect(errors).toEqual(['CONTINUUM_AUDIT_WRITE_FAILED', 'CONTINUUM_AUDIT_WRITE_FAILED'])
    expect(attempts[1]).toEqual(attempts[0])
    expect(attempts[2]).toEqual(attempts[0])
    expect(audit.stats()).toMatchObject({ written: 3, writeFailures: 2 })
    expect(await verifyAuditLog(written, keys.publicKeyPem)).toMatchObject({ ok: true, records: 3 })
  })

  it('retries a failed write by itself after retryDelayMs', async () => {
    let failures = 1
    const written: string[] = []
    const sink: AuditSink = {
      async write(lines) {
        if (failures-- > 0) throw new Error('collector down')
        written.push(...lines)
      },
    }
    const audit = await AuditLog.open({ sink, privateKey: keys.privateKeyPem, retryDelayMs: 5 })
    audit.record(sampleInput(0))
    while (audit.stats().writeFailures === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    while (written.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    expect(audit.stats()).toMatchObject({ written: 1, writeFailures: 1 })
    await audit.close()
  })

  it('refuses to continue a log whose last line is torn or edited', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const first = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
    first.record(sampleInput(0))
    await first.close()
    const good = await readFile(path, 'utf8')

    await writeFile(path, good.slice(0, -20))
    await expect(
      AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem }),
    ).rejects.toMatchObject({
      code: 'CONTINUUM_AUDIT_LOG_CORRUPT',
    })
    await writeFile(path, good.replace('user-42', 'user-43'))
    const errors: string[] = []
    const edited = new AuditLog({
      sink: new FileAuditSink({ path }),
      privateKey: keys.privateKeyPem,
      onError: (error) => errors.push(error.code),
    })
    await expect(edited.flush()).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_LOG_CORRUPT' })
    expect(errors).toEqual(['CONTINUUM_AUDIT_LOG_CORRUPT'])
  })

  // The attack: someone who can write the log but not sign appends a record under the log's own
  // key id with a hash that matches and a signature that does not. The restarted writer chained
  // onto it, and the verifier, which trusts nothing after a bad record, then vouched for none of
  // the genuine records written since. The writer holds the key: it checks its own signature.
  it('refuses to continue a log whose last record claims its key but was not signed with it', async () => {
    const path = join(folder.path, 'audit.jsonl')
    const first = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
    first.record(sampleInput(0))
    await first.close()
    const last = JSON.parse((await readFile(path, 'utf8')).trim()) as Record<string, unknown>
    const { hash: _hash, signature: _signature, ...rest } = last
    const body = {
      ...rest,
      seq: (last.seq as number) + 1,
      prevHash: last.hash,
      id: randomUUID(),
      who: { subject: 'someone-else' },
    }
    const bytes = Buffer.from(canonical(body))
    const forged = {
      ...body,
      hash: createHash('sha256').update(bytes).digest('hex'),
      signature: sign(null, bytes, generateKeyPairSync('ed25519').privateKey).toString('base64'),
    }
    await appendFile(path, `${canonical(forged)}\n`)
    await expect(
      AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem }),
    ).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_LOG_CORRUPT' })
    // A last record of another key (the one before a rotation) is continued as before.
    const rotated = await AuditLog.open({
      sink: new FileAuditSink({ path: join(folder.path, 'rotated.jsonl') }),
      privateKey: keys.privateKeyPem,
    })
    rotated.record(sampleInput(0))
    await rotated.close()
    const successor = generateAuditKeyPair()
    const next = await AuditLog.open({
      sink: new FileAuditSink({ path: join(folder.path, 'rotated.jsonl') }),
      privateKey: successor.privateKeyPem,
    })
    next.record(sampleInput(1))
    await next.close()
    expect(
      await verifyAuditLog(join(folder.path, 'rotated.jsonl'), [keys.publicKeyPem, successor.publicKeyPem]),
    ).toMatchObject({ ok: true, records: 2 })
  })

  it('starts from a configured anchor, and the verifier checks it', async () => {
    const anchor = 'ab'.repeat(32)
    const sink = new MemoryAuditSink()
    const audit = await AuditLog.open({ sink, privateKey: keys.privateKeyPem, anchor })
    audit.record(sampleInput(0))
    await audit.close()
    expect(JSON.parse(sink.lines[0]!).prevHash).toBe(anchor)
    expect((await verifyAuditLog(sink.lines, keys.publicKeyPem, { anchor })).ok).toBe(true)
    expect((await verifyAuditLog(sink.lines, keys.publicKeyPem)).firstBad?.reason).toBe('broken_chain')
  })

  it('writes JSON Lines to a stream sink', async () => {
    const chunks: string[] = []
    const stream = {
      write(chunk: string, callback: (error?: Error | null) => void) {
        chunks.push(chunk)
        callback()
        return true
      },
    }
    const audit = await AuditLog.open({
      sink: new StreamAuditSink({ stream }),
      privateKey: keys.privateKeyPem,
    })
    for (let index = 0; index < 4; index += 1) audit.record(sampleInput(index))
    await audit.close()
    const lines = chunks.join('').split('\n')
    expect(lines.at(-1)).toBe('')
    expect(await verifyAuditLog(lines.slice(0, -1), keys.publicKeyRaw)).toMatchObject({
      ok: true,
      records: 4,
    })
  })

  it('validates its options', () => {
    const sink = new MemoryAuditSink()
    const cases: [Record<string, unknown>, string][] = [
      [{ sink: {}, privateKey: keys.privateKeyPem }, 'sink'],
      [{ sink, privateKey: keys.privateKeyPem, maxQueue: 0 }, 'maxQueue'],
      [{ sink, privateKey: keys.privateKeyPem, overflow: 'block' }, 'overflow'],
      [{ sink, privateKey: keys.privateKeyPem, anchor: 'xyz' }, 'anchor'],
    ]
    for (const [options, name] of cases) {
      expect(() => new AuditLog(options as never)).toThrow(
        expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
      )
      expect(() => new AuditLog(options as never)).toThrow(name)
    }
    expect(() => new AuditLog({ sink, privateKey: keys.publicKeyPem })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_AUDIT_KEY_INVALID' }),
    )
  })
})
