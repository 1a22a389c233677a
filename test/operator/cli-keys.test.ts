/**
 * Key tooling as an operator meets it: `keygen field` only prints ids the keyring accepts (a `.`
 * passed the command before and was refused by the server), and `fingerprint` reads the key
 * published under the proxy's mount point, as the client does (`https://host/llm`), and says
 * what to drop when given the SDK's base URL with its version segment.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateAgreementKeyPair, Keyring } from 'continuum-proxy'
import { AuditLog, FileAuditSink, verifyAuditLog } from 'continuum-proxy/audit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'
import { frameworks, type RunningApp } from '../conformance/frameworks'

function capture() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: { stdout: (text: string) => out.push(text), stderr: (text: string) => err.push(text) },
  }
}

describe('keygen field', () => {
  it('prints an id and key the keyring takes, and refuses an id it would not', async () => {
    const run = capture()
    expect(await runCli(['keygen', 'field', '--id', 'k2026_a-1'], run.io)).toBe(0)
    const [id, key] = run.out
      .join('\n')
      .split('\n')
      .map((line) => line.split('=')[1]!)
    expect(() => new Keyring({ keys: [{ id: id!, key: key! }] })).not.toThrow()
    const refused = capture()
    expect(await runCli(['keygen', 'field', '--id', 'k2026.1'], refused.io)).toBe(2)
    expect(refused.err.join('\n')).toContain('--id: 1 to 64 letters, digits, "_" or "-"')
  })
})

describe('keygen audit', () => {
  it('writes the signing key pair of the audit log: the .key signs, the .pub verifies', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'continuum-keygen-'))
    try {
      const prefix = join(folder, 'audit')
      const made = capture()
      expect(await runCli(['keygen', 'audit', '--out', prefix], made.io)).toBe(0)
      expect((await stat(`${prefix}.key`)).mode & 0o777).toBe(0o600)
      const privateKey = await readFile(`${prefix}.key`, 'utf8')
      expect(made.out.join('\n')).not.toContain(privateKey.split('\n')[1])
      const path = join(folder, 'audit.jsonl')
      const log = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey })
      log.record({
        event: 'outcome',
        requestId: 'r1',
        who: { subject: 'operator', type: 'user' },
        what: { action: 'chat.completions' },
        resource: { model: 'llama-3-8b' },
        outcome: { status: 'success', httpStatus: 200 },
      })
      await log.close()
      expect((await verifyAuditLog(path, await readFile(`${prefix}.pub`, 'utf8'))).ok).toBe(true)
      expect(await runCli(['keygen', 'audit', '--out', prefix], capture().io)).toBe(2)
    } finally {
      await rm(folder, { recursive: true, force: true })
    }
  })
})

describe('fingerprint of a proxy mounted under /llm', () => {
  const pair = generateAgreementKeyPair()
  let app: RunningApp
  beforeAll(async () => {
    app = await frameworks
      .find((harness) => harness.name === 'express /llm')!
      .start({
        upstream: 'http://127.0.0.1:9',
        keys: { agreementKeys: [{ id: 'a1', privateKey: pair.privateKey }] },
      })
  })
  afterAll(async () => {
    await app.close()
  })

  it('reads the key where the client reads it', async () => {
    const run = capture()
    expect(await runCli(['fingerprint', app.url], run.io)).toBe(0)
    expect(run.out.join('\n')).toMatch(/^fingerprint: sha256:[0-9a-f]{64}\nkey id: a1$/)
  })

  it("names the URL to give instead of the SDK's base URL", async () => {
    const run = capture()
    expect(await runCli(['fingerprint', `${app.url}/v1`], run.io)).toBe(2)
    expect(run.err.join('\n')).toContain(`without the SDK's version segment: ${app.url}`)
  })
})
