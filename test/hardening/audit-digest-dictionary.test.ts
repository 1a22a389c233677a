/**
 * The audit log's content digest does not confirm guesses. The attack: someone who can read the
 * audit log (but not the traffic) guesses what a patient asked, digests each guess the way the
 * log does, and compares. Before, the default digest was an unkeyed SHA-256 of the decrypted
 * body, so "my diagnosis is type 2 diabetes" was confirmed from a list of twelve diagnoses. Now
 * the default is an HMAC under a per-process secret; with a configured key, an investigator who
 * holds it (and only they) can still confirm a body.
 */
import { randomBytes } from 'node:crypto'
import {
  AuditLog,
  type AuditRecord,
  AuditStage,
  digestContent,
  generateAuditKeyPair,
  MemoryAuditSink,
} from 'continuum-proxy/audit'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningProxy, startExpressProxy } from '../adapters/harness'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

const DIAGNOSES = [
  'asthma',
  'hypertension',
  'type 1 diabetes',
  'type 2 diabetes',
  'migraine',
  'depression',
  'celiac disease',
  'lupus',
  'psoriasis',
  'hypothyroidism',
  'gout',
  'anaemia',
]
const body = (diagnosis: string) => ({
  model: 'llama-3-8b',
  messages: [{ role: 'user', content: `my diagnosis is ${diagnosis}` }],
})

const key = randomBytes(32)
const send = createEncryptedFetch({ keyId: 'k1', key })
let upstream: FakeUpstream

beforeAll(async () => {
  upstream = await startOpenAIUpstream()
})

afterAll(async () => {
  await upstream.close()
})

/** Sends the patient's request through a proxy auditing with these stage options; returns its record. */
async function auditedDigest(contentDigest?: { key: Uint8Array }): Promise<string> {
  const sink = new MemoryAuditSink()
  const log = await AuditLog.open({ sink, privateKey: generateAuditKeyPair().privateKeyPem })
  let proxy: RunningProxy | undefined
  try {
    proxy = await startExpressProxy({
      upstream: upstream.url,
      keys: { keys: [{ id: 'k1', key }] },
      stages: [new AuditStage({ log, ...(contentDigest === undefined ? {} : { contentDigest }) })],
    })
    const response = await send(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body('type 2 diabetes')),
    })
    expect(response.status).toBe(200)
    await response.text()
  } finally {
    await proxy?.close()
    await log.close()
  }
  const records = sink.lines.map((line) => JSON.parse(line) as AuditRecord)
  const digests = records.map((record) => record.what?.contentDigest).filter((value) => value !== undefined)
  expect(digests).toHaveLength(1)
  return digests[0]!
}

/** What a log reader can do: digest every guess as an unkeyed SHA-256 and look for the record's value. */
const confirmedBy = (recorded: string, digest: (guess: unknown) => string) =>
  DIAGNOSES.filter((diagnosis) => digest(body(diagnosis)) === recorded)

describe('audit content digests against a dictionary', () => {
  it('by default, a log reader confirms no guess', async () => {
    const recorded = await auditedDigest()
    expect(confirmedBy(recorded, (guess) => digestContent(guess, { unkeyed: true }))).toEqual([])
    expect(recorded).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    // Nor with any key a reader might try: the per-process secret is random and never written.
    for (const guessedKey of ['', 'continuum', 'audit-digest-key', '0'.repeat(32)]) {
      const keyed = (guess: unknown) => digestContent(guess, { key: guessedKey.padEnd(16, '\u0000') })
      expect(confirmedBy(recorded, keyed)).toEqual([])
    }
  })

  it('with a configured key, only its holder confirms the body', async () => {
    const digestKey = randomBytes(32)
    const recorded = await auditedDigest({ key: digestKey })
    expect(confirmedBy(recorded, (guess) => digestContent(guess, { unkeyed: true }))).toEqual([])
    expect(confirmedBy(recorded, (guess) => digestContent(guess, { key: digestKey }))).toEqual([
      'type 2 diabetes',
    ])
  })

  it('refuses to be configured for unkeyed digests', async () => {
    const log = await AuditLog.open({
      sink: new MemoryAuditSink(),
      privateKey: generateAuditKeyPair().privateKeyPem,
    })
    try {
      expect(() => new AuditStage({ log, contentDigest: { unkeyed: true } as { key?: string } })).toThrow(
        expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
      )
    } finally {
      await log.close()
    }
  })
})
