import { execFile } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { verifyAuditLog } from 'continuum-proxy/audit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../../cli/run-cli'
import { cliCommand } from '../support/package-process'
import { temporaryFolder, writeLines, writeLog } from './helpers'

const root = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

/** Spawns the real executable (the built one when dist/ is fresh; test/support/package-process.ts). */
async function spawnCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(...cliCommand(...args), { cwd: root })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

/** Runs the CLI in-process, capturing output. */
async function callCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const errors: string[] = []
  const code = await runCli(args, { stdout: (text) => out.push(text), stderr: (text) => errors.push(text) })
  return { code, stdout: out.join('\n'), stderr: errors.join('\n') }
}

describe('continuum-proxy audit (spawned)', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('exits 0 with a summary for a good log, given a PEM file', async () => {
    const { keys, path } = await writeLog(folder.path, 6)
    const keyPath = join(folder.path, 'audit.pub')
    writeFileSync(keyPath, keys.publicKeyPem)
    const result = await spawnCli(['audit', 'verify', path, '--public-key', keyPath])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('OK: 6 records verified (seq 0..5)')
  })

  it('exits 1 naming the first bad record, given a raw base64 key', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 6)
    await writeLines(path, [...lines.slice(0, 2), ...lines.slice(3)])
    const result = await spawnCli(['audit', 'verify', path, '--public-key', keys.publicKeyRaw])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('FAILED: line 3, seq 3: missing')
    expect(result.stdout).toContain('record seq 2 is missing')
  })

  it('exits 2 on usage errors', async () => {
    const result = await spawnCli(['audit', 'verify', '--public-key'])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('Usage: continuum-proxy audit verify')
  })
})

describe('continuum-proxy audit (in-process)', () => {
  let folder: Awaited<ReturnType<typeof temporaryFolder>>
  beforeEach(async () => {
    folder = await temporaryFolder()
  })
  afterEach(() => folder.remove())

  it('reports edited and reordered records with line, seq and reason', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 8)
    const edited = JSON.parse(lines[3]!)
    edited.resource.model = 'gpt-other'
    await writeLines(path, [...lines.slice(0, 3), JSON.stringify(edited), ...lines.slice(4)])
    const editedResult = await callCli(['audit', 'verify', path, '--public-key', keys.publicKeyRaw])
    expect(editedResult.code).toBe(1)
    expect(editedResult.stdout).toContain('FAILED: line 4, seq 3: edited')

    await writeLines(path, [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)])
    const reordered = await callCli(['audit', 'verify', path, '--public-key', keys.publicKeyRaw, '--json'])
    expect(reordered.code).toBe(1)
    expect(JSON.parse(reordered.stdout).firstBad).toMatchObject({ line: 2, seq: 2, reason: 'reordered' })
  })

  it('fails with the wrong key and passes with both keys of a rotation', async () => {
    const first = await writeLog(folder.path, 3, 'a.jsonl')
    const second = await writeLog(folder.path, 3, 'b.jsonl')
    const wrong = await callCli(['audit', 'verify', first.path, '--public-key', second.keys.publicKeyRaw])
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toContain('FAILED: line 1, seq 0: unknown_key')
    const both = await callCli([
      'audit',
      'verify',
      first.path,
      '--public-key',
      second.keys.publicKeyRaw,
      '--public-key',
      first.keys.publicKeyRaw,
    ])
    expect(both.code).toBe(0)
  })

  it('detects a cut-off end with --expect-last-seq', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 5)
    await writeLines(path, lines.slice(0, 4))
    const result = await callCli([
      'audit',
      'verify',
      path,
      '--public-key',
      keys.publicKeyRaw,
      '--expect-last-seq',
      '4',
    ])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('seq 4: missing')
  })

  it('checks the kept head hash with --expect-last-hash', async () => {
    const { keys, path, lines } = await writeLog(folder.path, 5)
    const head = JSON.parse(lines[4]!) as { seq: number; hash: string }
    const verify = (hash: string) =>
      callCli([
        'audit',
        'verify',
        path,
        '--public-key',
        keys.publicKeyRaw,
        '--expect-last-seq',
        String(head.seq),
        '--expect-last-hash',
        hash,
      ])
    expect((await verify(head.hash)).code).toBe(0)
    const other = await verify('0'.repeat(64))
    expect(other.code).toBe(1)
    expect(other.stdout).toContain('seq 4: missing')
  })

  it('exits 2 for a missing log, a bad key, extra arguments and unknown commands', async () => {
    const { keys, path } = await writeLog(folder.path, 1)
    const missing = await callCli([
      'audit',
      'verify',
      join(folder.path, 'nope'),
      '--public-key',
      keys.publicKeyRaw,
    ])
    expect(missing).toMatchObject({ code: 2 })
    expect(missing.stderr).toContain('CONTINUUM_AUDIT_LOG_UNREADABLE')
    const badKey = await callCli(['audit', 'verify', path, '--public-key', 'c2VjcmV0LWtleQ=='])
    expect(badKey.code).toBe(2)
    expect(badKey.stderr).toContain('CONTINUUM_AUDIT_KEY_INVALID')
    expect(badKey.stderr).not.toContain('c2VjcmV0LWtleQ')
    expect((await callCli(['audit', 'verify', path, path, '--public-key', keys.publicKeyRaw])).code).toBe(2)
    const keyFolder = await callCli(['audit', 'verify', path, '--public-key', folder.path])
    expect(keyFolder.code).toBe(2)
    expect(keyFolder.stderr).toContain('EISDIR')
    expect((await callCli(['audit', 'verify', path])).code).toBe(2)
    expect(
      (await callCli(['audit', 'verify', path, '--public-key', keys.publicKeyRaw, '--first-seq', 'x'])).code,
    ).toBe(2)
    expect((await callCli(['audit', 'explode'])).code).toBe(2)
    expect((await callCli(['nope'])).code).toBe(2)
    expect((await callCli([])).code).toBe(2)
    expect(await callCli(['--help'])).toMatchObject({ code: 0 })
    expect((await callCli(['audit', 'verify', '--help'])).stdout).toContain('--public-key')
  })

  it('keygen writes a key pair that signs and verifies a log, and never overwrites', async () => {
    const prefix = join(folder.path, 'signing')
    const created = await callCli(['audit', 'keygen', '--out', prefix])
    expect(created.code).toBe(0)
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600)
    const { AuditLog, FileAuditSink } = await import('../../src/audit')
    const { sampleInput } = await import('./helpers')
    const path = join(folder.path, 'log.jsonl')
    const audit = await AuditLog.open({
      sink: new FileAuditSink({ path }),
      privateKey: readFileSync(`${prefix}.key`, 'utf8'),
    })
    audit.record(sampleInput(0))
    await audit.close()
    expect((await verifyAuditLog(path, readFileSync(`${prefix}.pub`, 'utf8'))).ok).toBe(true)
    expect((await callCli(['audit', 'verify', path, '--public-key', `${prefix}.pub`])).code).toBe(0)

    const again = await callCli(['audit', 'keygen', '--out', prefix])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('EEXIST')

    const printed = await callCli(['audit', 'keygen'])
    expect(printed.stdout).toContain('BEGIN PRIVATE KEY')
    expect(printed.stdout).toContain('BEGIN PUBLIC KEY')
  })
})
