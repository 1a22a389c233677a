/** Shared fixtures for the audit tests: temp folders, sample inputs and a log written to a real file. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AuditLog, type AuditRecordInput, FileAuditSink, generateAuditKeyPair } from 'continuum-proxy/audit'

export async function temporaryFolder(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'continuum-audit-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

export function sampleInput(index: number, overrides: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    event: index % 2 === 0 ? 'request' : 'outcome',
    requestId: `req-${Math.floor(index / 2)}`,
    who: {
      subject: 'user-42',
      type: 'user',
      tenant: 'acme',
      delegation: [{ subject: 'agent-7', type: 'agent' }],
    },
    what: { action: 'chat.completions', fields: ['messages[0].content'] },
    resource: { model: 'llama-3.1-8b', provider: 'vllm-local' },
    why: 'policy:default',
    outcome: index % 2 === 0 ? undefined : { status: 'success', httpStatus: 200 },
    latencyMs: index % 2 === 0 ? undefined : 12.5,
    usage: index % 2 === 0 ? undefined : { inputTokens: 10, outputTokens: 20, totalTokens: 30 },
    scanner: { verdict: 'allow', score: 0.01 },
    ...overrides,
  }
}

/** Writes `count` records to a fresh file and returns the key pair, the path and the lines. */
export async function writeLog(
  folder: string,
  count: number,
  name = 'audit.jsonl',
): Promise<{ keys: ReturnType<typeof generateAuditKeyPair>; path: string; lines: string[] }> {
  const keys = generateAuditKeyPair()
  const path = join(folder, name)
  const audit = await AuditLog.open({ sink: new FileAuditSink({ path }), privateKey: keys.privateKeyPem })
  for (let index = 0; index < count; index += 1) audit.record(sampleInput(index))
  await audit.close()
  return { keys, path, lines: await readLines(path) }
}

export async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8')
  return text.split('\n').filter((line) => line !== '')
}

export async function writeLines(path: string, lines: readonly string[]): Promise<void> {
  await writeFile(path, lines.map((line) => `${line}\n`).join(''))
}
