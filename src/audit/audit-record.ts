/**
 * The audit record: what callers hand to `AuditLog.record()` (`AuditRecordInput`) and what lands in
 * the log (`AuditRecord`, the input normalised plus the chain fields). The pipeline writes one
 * `request` record when a request is accepted and one `outcome` record when it ends; the router and
 * scanner fill the resource, usage and verdict. No field holds content: `what.contentDigest` only
 * accepts a digest made by `digestContent()`.
 */

/** Version of the record format; a verifier refuses versions it does not know. */
export const AUDIT_RECORD_VERSION = 1

/** `request` when a request is accepted, `outcome` when it ends; `audit.dropped` is written by the log itself. */
export type AuditEvent = 'request' | 'outcome'

/** One hop of a delegation chain: a party that acts on behalf of the previous one. */
export interface AuditDelegate {
  /** Identity of the party, e.g. a service account or agent id. */
  readonly subject: string
  /** Kind of party, e.g. `service`, `agent`, `user`. */
  readonly type?: string
}

/** Who made the request. */
export interface AuditActor {
  /** Caller identity: user id, API key id, service account. Never the API key itself. */
  readonly subject: string
  /** Kind of caller, e.g. `user`, `service`, `api_key`. */
  readonly type?: string
  /** Tenant or organisation. */
  readonly tenant?: string
  /** Peer address as seen by the proxy. */
  readonly remoteAddress?: string
  /** Parties that acted on the subject's behalf, outermost first. */
  readonly delegation?: readonly AuditDelegate[]
}

/** What was asked, without the content itself. */
export interface AuditAction {
  /** Operation, e.g. `chat.completions`, `embeddings`, `fhe.evaluate`. */
  readonly action: string
  /** `sha256:<hex>` or `hmac-sha256:<hex>` from `digestContent()`; anything else is refused. */
  readonly contentDigest?: string
  /** Names (paths) of the fields that were encrypted or classified; never their values. */
  readonly fields?: readonly string[]
}

/** The model and provider the request was for. */
export interface AuditResource {
  readonly model?: string
  readonly provider?: string
  /** HTTP route or endpoint name. */
  readonly route?: string
}

/** How the request ended. */
export interface AuditOutcome {
  readonly status: 'success' | 'denied' | 'blocked' | 'error' | 'cancelled'
  /** HTTP status answered to the client. */
  readonly httpStatus?: number
  /** Stable error code, e.g. `CONTINUUM_UPSTREAM_TIMEOUT`. */
  readonly errorCode?: string
}

/** Token counts reported by the provider. */
export interface AuditUsage {
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly totalTokens?: number
}

/** The prompt-injection scanner's verdict. */
export interface AuditScannerVerdict {
  readonly verdict: 'allow' | 'flag' | 'block'
  /** Score in the scanner's own scale. */
  readonly score?: number
  /** Ids of the rules that matched. */
  readonly rules?: readonly string[]
}

/** Flat extra attributes: ids, counters, labels. Never content. */
export type AuditAttributes = Readonly<Record<string, string | number | boolean | null>>

/** What callers give to `AuditLog.record()`. */
export interface AuditRecordInput {
  readonly event: AuditEvent
  /** The request id, the same in the `request` and `outcome` records of one request. */
  readonly requestId: string
  readonly who: AuditActor
  readonly what: AuditAction
  readonly resource?: AuditResource
  /** Purpose or policy that allowed the request, e.g. a policy id or a ticket reference. */
  readonly why?: string
  /** Required on `outcome` records. */
  readonly outcome?: AuditOutcome
  /** When the request started, in ms since the epoch (a `Date` is accepted). */
  readonly startedAt?: number | Date
  /** Duration of the request in milliseconds. */
  readonly latencyMs?: number
  readonly usage?: AuditUsage
  readonly scanner?: AuditScannerVerdict
  /** Data classification labels, e.g. `pii`, `phi`, `secret`. */
  readonly classification?: readonly string[]
  readonly attributes?: AuditAttributes
}

/** The record body, before the chain fields are added: the normalised input plus `id` and `time`. */
export interface AuditRecordBody {
  readonly event: AuditEvent | 'audit.dropped'
  /** Unique record id (UUID). */
  readonly id: string
  /** When the record was made, ISO 8601 UTC. */
  readonly time: string
  readonly requestId?: string
  readonly who: AuditActor
  readonly what: AuditAction
  readonly resource?: AuditResource
  readonly why?: string
  readonly outcome?: AuditOutcome
  /** ISO 8601 UTC. */
  readonly startedAt?: string
  readonly latencyMs?: number
  readonly usage?: AuditUsage
  readonly scanner?: AuditScannerVerdict
  readonly classification?: readonly string[]
  readonly attributes?: AuditAttributes
}

/** A record as stored: one line of the JSON Lines log. */
export interface AuditRecord extends AuditRecordBody {
  /** Format version, {@link AUDIT_RECORD_VERSION}. */
  readonly v: number
  /** Position in the chain, from 0. */
  readonly seq: number
  /** `hash` of the previous record; the anchor (64 zeros by default) for seq 0. */
  readonly prevHash: string
  /** Id of the signing key, see `auditKeyId()`. */
  readonly keyId: string
  /** SHA-256, hex, of the canonical JSON of the record without `hash` and `signature`. */
  readonly hash: string
  /** Ed25519 signature, base64, over the same canonical bytes. */
  readonly signature: string
  /**
   * ML-DSA-65 (FIPS 204) signature, base64, over the same canonical bytes with the context
   * `continuum-proxy audit record`; only in logs signed with a hybrid key (`keyId` `hybrid-…`).
   */
  readonly pqSignature?: string
}
