/**
 * The hash chain and the signature, shared by the writer and the verifier so both compute the same
 * bytes. A record's hash is SHA-256 over the canonical JSON of every field except `hash` and
 * `signature`; that body includes `seq` and `prevHash`, so editing, deleting or reordering a record
 * changes what later records commit to. The Ed25519 signature covers the same canonical bytes, so
 * only the key holder can produce a record that verifies; a hybrid key adds an ML-DSA-65 signature
 * (`pqSignature`) over the same bytes (audit-hybrid-keys.ts).
 */
import { createHash, type KeyObject, sign, verify } from 'node:crypto'
import { strictCanonicalJson } from '../internal/canonical-json'
import { AUDIT_RECORD_VERSION, type AuditRecord, type AuditRecordBody } from './audit-record'

/** The `prevHash` of the first record unless an anchor is configured. */
export const GENESIS_HASH = '0'.repeat(64)

/** Position of the last record written: the next record gets `seq + 1` and `prevHash = hash`. */
export interface AuditChainHead {
  /** Seq of the last record; -1 before the first. */
  readonly seq: number
  /** Hash of the last record, or the anchor before the first. */
  readonly hash: string
}

/** The canonical bytes that are hashed and signed: the record without `hash`, `signature` and `pqSignature`. */
export function signedBytes(
  record: Omit<AuditRecord, 'hash' | 'signature' | 'pqSignature'> | AuditRecord,
): Buffer {
  const { hash: _hash, signature: _signature, pqSignature: _pqSignature, ...body } = record as AuditRecord
  return Buffer.from(strictCanonicalJson(body), 'utf8')
}

/** Adds the chain fields to a body and signs it; returns the record and its JSON line (no newline). */
export function sealRecord(
  body: AuditRecordBody,
  head: AuditChainHead,
  keyId: string,
  privateKey: KeyObject,
  postQuantum?: (bytes: Uint8Array) => string,
): { record: AuditRecord; line: string } {
  const unsigned = { ...body, v: AUDIT_RECORD_VERSION, seq: head.seq + 1, prevHash: head.hash, keyId }
  const bytes = signedBytes(unsigned)
  const record: AuditRecord = {
    ...unsigned,
    hash: createHash('sha256').update(bytes).digest('hex'),
    signature: sign(null, bytes, privateKey).toString('base64'),
    ...(postQuantum === undefined ? {} : { pqSignature: postQuantum(bytes) }),
  }
  // The stored line is itself canonical JSON, so a byte-level diff of two logs is meaningful.
  return { record, line: strictCanonicalJson(record) }
}

/** Whether the stored hash matches the record's content (`bytes`: its signedBytes, when already computed). */
export function hashMatches(record: AuditRecord, bytes: Buffer = signedBytes(record)): boolean {
  return createHash('sha256').update(bytes).digest('hex') === record.hash
}

/** Whether the signature verifies with the given public key. */
export function signatureValid(
  record: AuditRecord,
  publicKey: KeyObject,
  bytes: Buffer = signedBytes(record),
): boolean {
  const signature = Buffer.from(record.signature, 'base64')
  if (signature.length !== 64) return false
  return verify(null, bytes, publicKey, signature)
}

/**
 * Whether `line` is exactly the line the writer wrote for `record`, its canonical JSON (a CRLF line
 * end aside). The hash covers what JSON.parse makes of a line, and JSON.parse keeps the last of
 * duplicate members: without this check a line could carry unsigned members in front of the signed
 * ones, which a reader that keeps the first member takes for the record.
 */
export function isWrittenLine(line: string, record: AuditRecord): boolean {
  const content = line.endsWith('\r') ? line.slice(0, -1) : line
  try {
    return strictCanonicalJson(record) === content
  } catch {
    // A member outside the signed bytes (pqSignature) holding a value canonical JSON refuses.
    return false
  }
}

const HEX64 = /^[0-9a-f]{64}$/

/** Checks that a parsed line has the chain fields of a record; returns the problem, or undefined when it does. */
export function recordShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the line is not a JSON object'
  const record = value as Record<string, unknown>
  if (record.v !== AUDIT_RECORD_VERSION)
    return `unsupported record version ${String(JSON.stringify(record.v)).slice(0, 16)}`
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 0)
    return 'seq is not a non-negative integer'
  if (typeof record.prevHash !== 'string' || !HEX64.test(record.prevHash))
    return 'prevHash is not 64 hex digits'
  if (typeof record.hash !== 'string' || !HEX64.test(record.hash)) return 'hash is not 64 hex digits'
  if (typeof record.signature !== 'string') return 'signature is missing'
  if (typeof record.keyId !== 'string') return 'keyId is missing'
  return undefined
}
