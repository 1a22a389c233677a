import { open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type AuditFileHandle,
  type AuditFileSystem,
  type AuditFsyncPolicy,
  AuditLog,
  FileAuditSink,
  generateAuditKeyPair,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sampleInput, temporaryFolder } from './helpers'

const keys = generateAuditKeyPair()

/** The real file system, counting fsyncs and optionally failing the first append, fsync or truncate. */
function countingFileSystem(
  options: { tearFirstAppend?: boolean; failFirstSync?: boolean; failFirstTruncate?: boolean } = {},
) {
  const counts = { sync: 0, append: 0, truncate: 0 }
  let tear = options.tearFirstAppend === true
  let failSync = options.failFirstSync === true
  let failTruncate = options.failFirstTruncate === true
  const fileSystem: AuditFileSystem = {
    async open(path, flags) {
      const handle = await open(path, flags)
      const wrapped: AuditFileHandle = {
        stat: () => handle.stat(),
        read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
        async appendFile(data) {
          counts.append += 1
          if (tear) {
            tear = false
            await handle.appendFile(data.slice(0, Math.floor(data.length / 2)))
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
          }
          await handle.appendFile(data)
        },
        async sync() {
          counts.sync += 1
          if (failSync) {
            failSync = false
            throw Object.assign(new Error('input/output error'), { code: 'EIO' })
          }
          await handle.sync()
        },
        async truncate(length) {
          counts.truncate += 1
          if (failTruncate) {
            failTruncate = false
            throw Object.assign(new Error('input/output error'), { code: 'EIO' })
          }
          await handle.truncate(length)
        },
        close: () => handle.close(),
      }
      return wrapped
    },
  }
  return { fileSystem, counts }
}

describe('FileAuditSink', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  let path: string
  beforeEach(async () => {
    folder = await temporaryFolder()
    path = join(folder.path, 'audit.jsonl')
  })
  afterEach(() => folder.remove())

  async function writeRecords(fsync: AuditFsyncPolicy, count: number) {
    const { fileSystem, counts } = countingFileSystem()
    const audit = await AuditLog.open({
      sink: new FileAuditSink({ path, fsync, fileSystem }),
      privateKey: keys.privateKeyPem,
      maxBatch: 1,
    })
    for (let index = 0; index < count; index += 1) audit.record(sampleInput(index))
    // Wait for the background writer without flush(), which would fsync by itself.
    while (audit.stats().written < count) await new Promise((resolve) => setTimeout(resolve, 1))
    const beforeClose = { ...counts }
    await audit.close()
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: count })
    return { beforeClose, afterClose: counts }
  }

  it("fsync 'always' syncs after every write", async () => {
    const { beforeClose, afterClose } = await writeRecords('always', 5)
    expect(beforeClose).toMatchObject({ append: 5, sync: 5 })
    expect(afterClose.sync).toBe(5)
  })

  it("fsync 'never' syncs only on close", async () => {
    const { beforeClose, afterClose } = await writeRecords('never', 5)
    expect(beforeClose).toMatchObject({ append: 5, sync: 0 })
    expect(afterClose.sync).toBe(1)
  })

  it('fsync everyRecords syncs once per N records, and the rest on close', async () => {
    const { beforeClose, afterClose } = await writeRecords({ everyRecords: 3 }, 7)
    expect(beforeClose).toMatchObject({ append: 7, sync: 2 })
    expect(afterClose.sync).toBe(3)
  })

  it('flush() syncs what an interval policy has not synced yet', async () => {
    const { fileSystem, counts } = countingFileSystem()
    const audit = await AuditLog.open({
      sink: new FileAuditSink({ path, fsync: { everyRecords: 100 }, fileSystem }),
      privateKey: keys.privateKeyPem,
    })
    audit.record(sampleInput(0))
    await audit.flush()
    expect(counts.sync).toBe(1)
    await audit.close()
    expect(counts.sync).toBe(1)
  })

  it('fsync everyMs syncs when the interval has passed at a write, by the injected clock', async () => {
    let now = 0
    const { fileSystem, counts } = countingFileSystem()
    const sink = new FileAuditSink({
      path,
      fsync: { everyMs: 60_000 },
      fileSystem,
      clock: { now: () => now },
    })
    await sink.open()
    await sink.write(['{"a":1}'])
    now = 30_000
    await sink.write(['{"a":2}'])
    expect(counts.sync).toBe(0)
    now = 60_000
    await sink.write(['{"a":3}'])
    expect(counts.sync).toBe(1)
    await sink.close()
    expect(counts.sync).toBe(1)
  })

  it('fsync everyMs syncs an idle file after the interval', async () => {
    const { fileSystem, counts } = countingFileSystem()
    const sink = new FileAuditSink({ path, fsync: { everyMs: 20 }, fileSystem })
    await sink.open()
    await sink.write(['{"a":1}'])
    expect(counts.sync).toBe(0)
    await vi.waitFor(() => expect(counts.sync).toBe(1))
    await sink.close()
  })

  /**
   * Three records whose first write fails by `faults`, then a close (which retries them): the
   * file as the failed write left it, and the file system's call counts. The retry delay is long
   * enough that only close() retries, so the file can be read in between.
   */
  async function failFirstBatch(faults: Parameters<typeof countingFileSystem>[0]) {
    const { fileSystem, counts } = countingFileSystem(faults)
    const audit = await AuditLog.open({
      sink: new FileAuditSink({ path, fileSystem }),
      privateKey: keys.privateKeyPem,
      retryDelayMs: 60_000,
    })
    for (let index = 0; index < 3; index += 1) audit.record(sampleInput(index))
    await expect(audit.flush()).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_WRITE_FAILED' })
    const afterFailure = await readFile(path, 'utf8')
    await audit.close()
    return { afterFailure, counts }
  }

  it('cuts a torn append off the file so the retried batch verifies', async () => {
    const { afterFailure, counts } = await failFirstBatch({ tearFirstAppend: true })
    expect(afterFailure).toBe('')
    expect(counts.truncate).toBe(1)
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 3 })
  })

  // The attack: a disk that accepts an append but fails its fsync (EIO). The sink rejected the
  // write with the lines still in the file, the log retried the same signed lines, and the file
  // held every record twice: the verifier stopped at the copy (`reordered`), so one disk hiccup
  // made the whole rest of the log unverifiable.
  it('leaves no copy of a batch whose fsync failed, so the retried batch verifies once', async () => {
    const { afterFailure, counts } = await failFirstBatch({ failFirstSync: true })
    expect(afterFailure).toBe('')
    expect(counts.sync).toBeGreaterThanOrEqual(2)
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 3 })
  })

  it('cuts a torn append off before the retry even when the first cut failed', async () => {
    const { counts } = await failFirstBatch({ tearFirstAppend: true, failFirstTruncate: true })
    expect(counts.truncate).toBe(2)
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 3 })
  })

  it('reads the last line of a large file across read chunks', async () => {
    const first = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
    for (let index = 0; index < 400; index += 1) first.record(sampleInput(index))
    await first.close()
    const second = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
    expect(second.head.seq).toBe(399)
    second.record(sampleInput(0))
    await second.close()
    expect(await verifyAuditLog(path, keys.publicKeyPem)).toMatchObject({ ok: true, records: 401 })
  })

  it('reports a file that cannot be opened', async () => {
    await writeFile(join(folder.path, 'file'), '')
    const audit = new AuditLog({
      sink: new FileAuditSink({ path: join(folder.path, 'file', 'audit.jsonl') }),
      privateKey: keys.privateKeyPem,
    })
    await expect(audit.ready()).rejects.toMatchObject({ code: 'CONTINUUM_AUDIT_WRITE_FAILED' })
  })

  it('validates its options', () => {
    expect(() => new FileAuditSink({ path: '' })).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
    expect(() => new FileAuditSink({ path, fsync: {} })).toThrow('fsync')
    expect(() => new FileAuditSink({ path, fsync: { everyMs: -1 } })).toThrow('everyMs')
    expect(() => new FileAuditSink({ path, fsync: 'sometimes' as never })).toThrow('fsync')
  })
})
