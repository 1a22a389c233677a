/**
 * AuditLog speed: what `record()` costs the request path (validation and copy only), how many
 * records per second the background writer signs and appends to a file under each fsync policy,
 * and how fast the verifier checks a log. The record is a realistic outcome record.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AuditFsyncPolicy,
  AuditLog,
  type AuditRecordInput,
  digestContent,
  FileAuditSink,
  generateAuditKeyPair,
  MemoryAuditSink,
  verifyAuditLog,
} from 'continuum-proxy/audit'
import { fixed, median, quantile } from './stats'

const keys = generateAuditKeyPair()
const input: AuditRecordInput = {
  event: 'outcome',
  requestId: 'req-0123456789',
  who: {
    subject: 'user-42',
    type: 'user',
    tenant: 'acme',
    delegation: [{ subject: 'agent-7', type: 'agent' }],
  },
  what: { action: 'chat.completions', contentDigest: digestContent('a prompt', { key: 'k'.repeat(32) }) },
  resource: { model: 'llama-3.1-8b-instruct', provider: 'vllm-local', route: '/v1/chat/completions' },
  why: 'policy:default',
  outcome: { status: 'success', httpStatus: 200 },
  startedAt: Date.now(),
  latencyMs: 182.4,
  usage: { inputTokens: 512, outputTokens: 256, totalTokens: 768 },
  scanner: { verdict: 'allow', score: 0.02 },
  classification: ['internal'],
}

async function recordLatency(): Promise<number[]> {
  const audit = await AuditLog.open({
    sink: new MemoryAuditSink(),
    privateKey: keys.privateKeyPem,
    maxQueue: 100_000,
  })
  const samples: number[] = []
  for (let round = 0; round < 20; round++) {
    for (let index = 0; index < 1000; index++) {
      const started = performance.now()
      audit.record(input)
      samples.push(performance.now() - started)
    }
    await audit.flush()
  }
  await audit.close()
  return samples.slice(2000)
}

async function writerThroughput(folder: string, fsync: AuditFsyncPolicy, count: number): Promise<number> {
  const path = join(folder, `audit-${JSON.stringify(fsync).replace(/\W/g, '')}.jsonl`)
  const audit = await AuditLog.open({
    sink: new FileAuditSink({ path, fsync }),
    privateKey: keys.privateKeyPem,
    maxQueue: count,
  })
  const started = performance.now()
  for (let index = 0; index < count; index++) audit.record(input)
  await audit.close()
  return count / ((performance.now() - started) / 1000)
}

export default async function (): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'continuum-audit-bench-'))
  try {
    const latency = await recordLatency()
    console.log('| measure | median | p99 |')
    console.log('| --- | --- | --- |')
    console.log(
      `| record() on the request path (µs) | ${fixed(median(latency) * 1000, 2)} | ${fixed(quantile(latency, 0.99) * 1000, 2)} |`,
    )

    console.log('\n| writer (sign + append, 10k records) | records/s (median of 3) |')
    console.log('| --- | --- |')
    const policies: [string, AuditFsyncPolicy][] = [
      ["fsync 'never'", 'never'],
      ["fsync 'always' (one fsync per batch of 256)", 'always'],
      ['fsync every 1000 records', { everyRecords: 1000 }],
    ]
    for (const [label, policy] of policies) {
      const rates: number[] = []
      for (let round = 0; round < 3; round++) rates.push(await writerThroughput(folder, policy, 10_000))
      console.log(`| ${label} | ${fixed(median(rates), 0)} |`)
    }

    const path = join(folder, 'audit-never.jsonl')
    // The three 'never' rounds appended to one file, as restarts do: one chain of 30k records.
    const rates: number[] = []
    let records = 0
    for (let round = 0; round < 3; round++) {
      const started = performance.now()
      const result = await verifyAuditLog(path, keys.publicKeyPem)
      if (!result.ok) throw new Error('benchmark log did not verify')
      records = result.records
      rates.push(result.records / ((performance.now() - started) / 1000))
    }
    console.log(`\n| verifier (${records} records) | records/s (median of 3) |`)
    console.log('| --- | --- |')
    console.log(`| verifyAuditLog | ${fixed(median(rates), 0)} |`)
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}
