/**
 * The verifier behind `continuum-proxy audit verify`: reads a JSON Lines audit log line by line
 * (constant memory on large files) and checks, for each record in order, its shape, that it was
 * signed by one of the given keys, that its hash matches its content, that its signature verifies,
 * that the line is the canonical JSON the writer wrote, that its seq follows the previous one and
 * that its prevHash is the previous record's hash, and that its key has not been succeeded in the
 * chain already (a retired key that leaked must not be able to append after a rotation); given a
 * head kept elsewhere, that the log reaches its seq and that the record there has its hash. It
 * stops at the first bad record and says why, telling a deleted record from a reordered one by
 * looking ahead for the seq it expected.
 */
import type { KeyObject } from 'node:crypto'
import { type FileHandle, open } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { ContinuumError } from '../errors'
import { type AuditVerifyKeyInput, type PostQuantumVerifier, parseVerifyKey } from './audit-hybrid-keys'
import type { AuditRecord } from './audit-record'
import {
  GENESIS_HASH,
  hashMatches,
  isWrittenLine,
  recordShapeProblem,
  signatureValid,
  signedBytes,
} from './record-chain'

const HEX64 = /^[0-9a-f]{64}$/

/** Why a record failed verification. */
export type AuditVerifyReason =
  /** Not JSON, not a record, or an unknown format version. */
  | 'malformed'
  /** Signed with a key that is not among the given public keys. */
  | 'unknown_key'
  /**
   * Signed with a given key that the chain had already moved on from: a key's validity ends at the
   * first record its successor signs (or, for the Ed25519 half of a hybrid key, at the first
   * record the hybrid key signs).
   */
  | 'retired_key'
  /** The content does not match the record's hash, or the line is not the canonical JSON written. */
  | 'edited'
  /** The hash matches but the signature does not verify (forged, truncated, re-signed). */
  | 'bad_signature'
  /** One or more records before this one are missing, or the log ends early. */
  | 'missing'
  /** The record comes after a record with a higher seq: reordered or duplicated. */
  | 'reordered'
  /** The seq is right but prevHash is not the previous record's hash. */
  | 'broken_chain'

/** The first record that failed. */
export interface AuditVerifyFailure {
  /** 1-based line number in the log. */
  readonly line: number
  /** The record's seq, when it could be read. */
  readonly seq: number | undefined
  readonly reason: AuditVerifyReason
  /** One sentence for people; holds no record content. */
  readonly message: string
}

/** The outcome of {@link verifyAuditLog}. */
export interface AuditVerifyResult {
  /** True when every record verified (and `expectLastSeq` was reached). */
  readonly ok: boolean
  /** Records that verified, up to the first bad one. */
  readonly records: number
  /** Seq and hash of the last record that verified. */
  readonly lastSeq: number | undefined
  readonly lastHash: string | undefined
  /** Records the writer reported as dropped (queue full) through `audit.dropped` markers. */
  readonly dropped: number
  readonly firstBad?: AuditVerifyFailure
}

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /**
   * `prevHash` expected on the first record.
   * @default 64 zeros
   */
  anchor?: string
  /**
   * Seq expected on the first record (a rotated log continues from its predecessor).
   * @default 0
   */
  firstSeq?: number
  /**
   * Seq the log must reach, e.g. from a head kept elsewhere: detects records cut off the end.
   * @default undefined (no check)
   */
  expectLastSeq?: number
  /**
   * With `expectLastSeq`: the hash the record of that seq must have (the head kept elsewhere is
   * a seq and a hash). A seq alone is reached again once a restarted writer went on from a log
   * whose end was cut off; the hash tells the record the head named from the one written since.
   * @default undefined (no check)
   */
  expectLastHash?: string
}

/** A log to verify: a file path or URL, or the lines themselves. */
export type AuditLogSource = string | URL | Iterable<string> | AsyncIterable<string>

/**
 * Verifies a hash-chained, signed audit log.
 * @param publicKey one key, or several when the log spans a key rotation; a hybrid public key document (`continuum-proxy model keygen`) requires both signatures of each record
 * @example
 * const result = await verifyAuditLog('/var/log/continuum/audit.jsonl', publicKeyPem)
 * if (!result.ok) console.error(result.firstBad)
 */
export async function verifyAuditLog(
  source: AuditLogSource,
  publicKey: AuditVerifyKeyInput | readonly AuditVerifyKeyInput[],
  options: VerifyAuditLogOptions = {},
): Promise<AuditVerifyResult> {
  const keys = new Map<string, { publicKey: KeyObject; postQuantum: PostQuantumVerifier | undefined }>()
  for (const input of Array.isArray(publicKey) ? publicKey : [publicKey as AuditVerifyKeyInput]) {
    const { keyId, ...key } = await parseVerifyKey(input)
    keys.set(keyId, key)
  }
  const anchor = options.anchor ?? GENESIS_HASH
  const invalid = (message: string) =>
    new ContinuumError('CONTINUUM_INVALID_OPTIONS', `verifyAuditLog: options.${message}`)
  if (!HEX64.test(anchor)) throw invalid('anchor must be 64 lower-case hex digits')
  // A seq that is not a whole number passes every comparison it is in (NaN) or none: refused,
  // since it would turn a check off without a word.
  const { firstSeq = 0, expectLastSeq, expectLastHash } = options
  if (!Number.isSafeInteger(firstSeq) || firstSeq < 0)
    throw invalid('firstSeq must be a non-negative integer')
  if (expectLastSeq !== undefined && (!Number.isSafeInteger(expectLastSeq) || expectLastSeq < 0))
    throw invalid('expectLastSeq must be a non-negative integer')
  if (expectLastHash !== undefined && (expectLastSeq === undefined || !HEX64.test(expectLastHash)))
    throw invalid('expectLastHash must be 64 lower-case hex digits, given with expectLastSeq')

  const { lines, release } = await readLines(source)
  let expectedSeq = firstSeq
  let expectedPrev = anchor
  let lineNumber = 0
  let records = 0
  let dropped = 0
  let lastHash: string | undefined
  const result = (firstBad?: AuditVerifyFailure): AuditVerifyResult => ({
    ok: firstBad === undefined,
    records,
    lastSeq: records > 0 ? expectedSeq - 1 : undefined,
    lastHash,
    dropped,
    firstBad,
  })
  const fail = (reason: AuditVerifyReason, seq: number | undefined, message: string) =>
    result({ line: lineNumber, seq, reason, message })
  // The first hybrid record no ML-DSA signature covers yet, and the counts up to the last covered one.
  let uncovered: { line: number; seq: number } | undefined
  let covered = { records, expectedSeq, lastHash, dropped }
  const uncoveredFailure = (): AuditVerifyResult => {
    const first = uncovered!
    ;({ records, expectedSeq, lastHash, dropped } = covered)
    lineNumber = first.line
    return fail(
      'bad_signature',
      first.seq,
      `record seq ${first.seq} at line ${first.line} is covered by no ML-DSA signature (the hybrid signature of a later record)`,
    )
  }

  // The key that signed the last good record, and the keys the chain has moved on from.
  let currentKeyId: string | undefined
  const retired = new Map<string, number>()

  try {
    for (let next = await nextLine(lines); next.done !== true; next = await nextLine(lines)) {
      lineNumber += 1
      const parsed = parse(next.value)
      if (typeof parsed === 'string') return fail('malformed', undefined, `line ${lineNumber}: ${parsed}`)
      const { record, bytes } = parsed
      const where = `record seq ${record.seq} at line ${lineNumber}`
      const key = keys.get(record.keyId)
      if (key === undefined) {
        return fail(
          'unknown_key',
          record.seq,
          `${where} is signed by key ${record.keyId}, not a given public key`,
        )
      }
      if (!hashMatches(record, bytes))
        return fail('edited', record.seq, `${where} does not match its hash: it was edited`)
      if (!signatureValid(record, key.publicKey, bytes))
        return fail('bad_signature', record.seq, `${where} has an invalid signature`)
      const retiredAt = retired.get(record.keyId)
      if (retiredAt !== undefined) {
        return fail(
          'retired_key',
          record.seq,
          `${where} is signed by key ${record.keyId}, retired at seq ${retiredAt} when the chain moved to a newer key`,
        )
      }
      // A hybrid key needs both signatures. ML-DSA signs the last record of each batch, which commits
      // to the records before it through the chain; a record no later ML-DSA signature covers fails.
      if (key.postQuantum !== undefined) {
        if (record.pqSignature === undefined) uncovered ??= { line: lineNumber, seq: record.seq }
        else if (!key.postQuantum(bytes, record.pqSignature))
          return fail('bad_signature', record.seq, `${where} has an invalid ML-DSA signature`)
      } else if (uncovered !== undefined) {
        return uncoveredFailure()
      }
      if (!isWrittenLine(next.value, record)) {
        return fail(
          'edited',
          record.seq,
          `${where} is not the canonical JSON line that was written (duplicate members, spacing or escapes changed): it was edited`,
        )
      }
      if (record.seq > expectedSeq) {
        const laterLine = await findSeq(lines, expectedSeq, lineNumber)
        return laterLine === undefined
          ? fail('missing', record.seq, `${where}: record seq ${expectedSeq} is missing (deleted)`)
          : fail(
              'reordered',
              record.seq,
              `${where} comes before seq ${expectedSeq} (line ${laterLine}): reordered`,
            )
      }
      if (record.seq < expectedSeq) {
        return fail(
          'reordered',
          record.seq,
          `${where} comes after seq ${expectedSeq - 1}: reordered or duplicated`,
        )
      }
      if (record.prevHash !== expectedPrev) {
        return fail('broken_chain', record.seq, `${where} does not link to the previous record's hash`)
      }
      if (expectLastHash !== undefined && record.seq === expectLastSeq && record.hash !== expectLastHash) {
        return fail(
          'missing',
          record.seq,
          `${where} is not the record the kept head names (another hash): records were cut off the end and the log went on after them`,
        )
      }
      if (record.event === 'audit.dropped' && typeof record.attributes?.dropped === 'number') {
        dropped += record.attributes.dropped
      }
      if (record.keyId !== currentKeyId) {
        // A rotation: the key before it never signs again. A hybrid key also retires its own
        // Ed25519 half, so a chain cannot fall back to the half a quantum attacker could forge.
        if (currentKeyId !== undefined) retired.set(currentKeyId, record.seq)
        if (key.postQuantum !== undefined) retired.set(record.keyId.slice('hybrid-'.length), record.seq)
        currentKeyId = record.keyId
      }
      records += 1
      expectedSeq = record.seq + 1
      expectedPrev = record.hash
      lastHash = record.hash
      if (key.postQuantum === undefined || record.pqSignature !== undefined) {
        uncovered = undefined
        covered = { records, expectedSeq, lastHash, dropped }
      }
    }
  } finally {
    await release()
  }
  if (uncovered !== undefined) return uncoveredFailure()
  if (expectLastSeq !== undefined && expectedSeq - 1 < expectLastSeq) {
    lineNumber += 1
    return fail(
      'missing',
      expectedSeq,
      `the log ends at line ${lineNumber - 1}; records seq ${expectedSeq}..${expectLastSeq} are missing (cut off)`,
    )
  }
  return result()
}

function parse(line: string): { record: AuditRecord; bytes: Buffer } | string {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return line.trim() === '' ? 'blank line' : 'not valid JSON (truncated or edited)'
  }
  const problem = recordShapeProblem(value)
  if (problem !== undefined) return problem
  try {
    // A record holding a value canonical JSON refuses (a lone surrogate) cannot be hashed.
    return { record: value as AuditRecord, bytes: signedBytes(value as AuditRecord) }
  } catch {
    return 'holds a value that has no canonical JSON form'
  }
}

async function nextLine(lines: AsyncIterator<string>): Promise<IteratorResult<string>> {
  try {
    return await lines.next()
  } catch (error) {
    throw unreadable(error)
  }
}

function unreadable(error: unknown): ContinuumError {
  if (ContinuumError.isInstance(error)) return error
  const code = (error as { code?: unknown })?.code
  return new ContinuumError(
    'CONTINUUM_AUDIT_LOG_UNREADABLE',
    `The audit log cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
    { cause: error },
  )
}

/** Scans the rest of the log for a seq; resolves its line number, or undefined. */
async function findSeq(
  lines: AsyncIterator<string>,
  seq: number,
  fromLine: number,
): Promise<number | undefined> {
  let lineNumber = fromLine
  for (let next = await nextLine(lines); next.done !== true; next = await nextLine(lines)) {
    lineNumber += 1
    try {
      if ((JSON.parse(next.value) as { seq?: unknown }).seq === seq) return lineNumber
    } catch {
      // A malformed line later on cannot be the missing record.
    }
  }
  return undefined
}

/** Lines of the source, and a release that closes the file even when verification stops early. */
async function readLines(
  source: AuditLogSource,
): Promise<{ lines: AsyncIterator<string>; release: () => Promise<void> }> {
  if (typeof source !== 'string' && !(source instanceof URL)) {
    const iterable: AsyncIterable<string> =
      Symbol.asyncIterator in source
        ? source
        : (async function* () {
            yield* source
          })()
    const lines = iterable[Symbol.asyncIterator]()
    return { lines, release: async () => void (await lines.return?.()) }
  }
  let handle: FileHandle
  try {
    handle = await open(source, 'r')
  } catch (error) {
    throw unreadable(error)
  }
  const input = handle.createReadStream({ encoding: 'utf8', autoClose: false })
  const reader = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  return {
    lines: reader[Symbol.asyncIterator](),
    release: async () => {
      reader.close()
      input.destroy()
      await handle.close()
    },
  }
}
