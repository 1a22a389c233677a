/** Audit surface: the tamper-evident AuditLog, its sinks, keys, content digests and the verifier. */

export { strictCanonicalJson } from '../internal/canonical-json'
export type { HybridPrivateKey, HybridPublicKey } from '../router/hybrid-signature'
export type { AuditSigningKeyInput, AuditVerifyKeyInput } from './audit-hybrid-keys'
export {
  type AuditKeyInput,
  type AuditKeyPair,
  auditKeyId,
  generateAuditKeyPair,
  parseAuditPrivateKey,
  parseAuditPublicKey,
} from './audit-keys'
export { AuditLog } from './audit-log'
export type {
  AuditDropEvent,
  AuditLogOptions,
  AuditLogStats,
  AuditOverflowPolicy,
} from './audit-log-options'
export {
  AUDIT_RECORD_VERSION,
  type AuditAction,
  type AuditActor,
  type AuditAttributes,
  type AuditDelegate,
  type AuditEvent,
  type AuditOutcome,
  type AuditRecord,
  type AuditRecordBody,
  type AuditRecordInput,
  type AuditResource,
  type AuditScannerVerdict,
  type AuditUsage,
} from './audit-record'
export type { AuditSink } from './audit-sink'
export { AuditStage, type AuditStageOptions } from './audit-stage'
export { CONTENT_DIGEST_PATTERN, type DigestContentOptions, digestContent } from './content-digest'
export {
  type AuditFileHandle,
  type AuditFileSystem,
  type AuditFsyncPolicy,
  FileAuditSink,
  type FileAuditSinkOptions,
} from './file-audit-sink'
export { MemoryAuditSink } from './memory-audit-sink'
export { type AuditChainHead, GENESIS_HASH } from './record-chain'
export { type AuditWritableStream, StreamAuditSink, type StreamAuditSinkOptions } from './stream-audit-sink'
export {
  type AuditLogSource,
  type AuditVerifyFailure,
  type AuditVerifyReason,
  type AuditVerifyResult,
  type VerifyAuditLogOptions,
  verifyAuditLog,
} from './verify-audit-log'
