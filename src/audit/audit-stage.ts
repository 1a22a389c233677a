/**
 * The audit log as a proxy stage: one signed `outcome` record per request on an encrypted route,
 * including requests refused before they were decrypted (bad keys, replays, schema violations),
 * which matter most to an investigator. A record names the caller, the route, model, status, error
 * code, latency, token counts and the scanner's verdict, and holds a digest of the decrypted
 * request instead of its content. `AuditLog.record()` only queues, so the request never waits on disk.
 */
import { HEADERS } from '../cipher/format'
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import type { CoreRequest } from '../core/http'
import type { Logger } from '../core/logger'
import { silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { hasBrand } from '../internal/brand'
import { CREDENTIAL_HEADERS } from '../internal/credential-headers'
import { scannerAnnotationOf } from '../proxy/annotations'
import type { Exchange, ExchangeOutcome, ExchangeResponse, ReceivedExchange } from '../proxy/exchange'
import type { Next, ProxyStage } from '../proxy/stage'
import type { AuditLog } from './audit-log'
import type { AuditActor, AuditOutcome, AuditRecordInput, AuditScannerVerdict } from './audit-record'
import { digestContent } from './content-digest'

/** Options of {@link AuditStage}. */
export interface AuditStageOptions {
  /** The log records go to. */
  log: AuditLog
  /**
   * Request header that names the caller (set by your authentication layer), e.g. `x-user-id`.
   * Credential headers (`authorization`, `cookie`, API-key headers) are refused.
   * @default undefined (the subject is `anonymous` unless `identify` says otherwise)
   */
  identityHeader?: string
  /**
   * Names the caller from the request; wins over `identityHeader`. Return a subject, a full actor,
   * or undefined for the default. Runs guarded: a throwing function gives the default.
   * @default undefined
   */
  identify?: (request: CoreRequest) => AuditActor | string | undefined
  /**
   * Digest of the decrypted request in `what.contentDigest`, always keyed (HMAC-SHA-256: a plain
   * hash of a short prompt can be confirmed from a dictionary by anyone reading the log). `{ key }`
   * (16 bytes or more, kept apart from the log) makes digests an investigator can check later;
   * `{}` uses a random per-process secret (digests compare within one process's records only);
   * `false` records none.
   * @default {} (the per-process secret)
   */
  contentDigest?: false | { key?: string | Uint8Array }
  /**
   * Time source for latencies.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Receives content-free messages when a record cannot be queued.
   * @default silentLogger
   */
  logger?: Logger
}

const ANONYMOUS: AuditActor = { subject: 'anonymous' }
/** Where the digest of the accepted request waits for the outcome record. */
const DIGEST_ANNOTATION = 'continuum.audit.digest'

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `audit: ${message}`)
}

function auditOutcome(outcome: ExchangeOutcome): AuditOutcome {
  const { status, errorCode } = outcome
  const kind: AuditOutcome['status'] =
    errorCode === 'CONTINUUM_PROMPT_INJECTION_BLOCKED'
      ? 'blocked'
      : errorCode === 'CONTINUUM_CLIENT_ABORTED'
        ? 'cancelled'
        : status === 401 || status === 403
          ? 'denied'
          : errorCode === undefined && status < 400
            ? 'success'
            : 'error'
  return errorCode === undefined
    ? { status: kind, httpStatus: status }
    : { status: kind, httpStatus: status, errorCode }
}

/** Writes one audit record per exchange outcome. */
export class AuditStage implements ProxyStage {
  readonly name = 'audit'
  readonly log: AuditLog
  readonly #identityHeader: string | undefined
  readonly #identify: AuditStageOptions['identify']
  readonly #digest: { key?: string | Uint8Array } | undefined
  readonly #clock: Clock
  readonly #logger: Logger

  /** Takes the log, or options naming it (validated now). */
  constructor(options: AuditLog | AuditStageOptions) {
    const resolved: AuditStageOptions = hasBrand(options, 'AuditLog')
      ? { log: options as AuditLog }
      : (options as AuditStageOptions)
    if (!hasBrand(resolved?.log, 'AuditLog')) throw invalid('log must be an AuditLog')
    const header = resolved.identityHeader?.toLowerCase()
    if (header !== undefined && !/^[a-z0-9-]{1,64}$/.test(header))
      throw invalid('identityHeader must be a header name')
    if (header !== undefined && CREDENTIAL_HEADERS.has(header)) {
      throw invalid(`identityHeader "${header}" carries credentials; name the caller with identify() instead`)
    }
    if (resolved.identify !== undefined && typeof resolved.identify !== 'function') {
      throw invalid('identify must be a function')
    }
    const digest = resolved.contentDigest ?? {}
    if (digest !== false && (typeof digest !== 'object' || digest === null)) {
      throw invalid('contentDigest must be false or { key? }')
    }
    if (digest !== false && 'unkeyed' in digest) throw invalid('contentDigest is always keyed')
    if (digest !== false && digest.key !== undefined) digestContent('', digest) // checks the key length now
    this.log = resolved.log
    this.#identityHeader = header
    this.#identify = resolved.identify
    this.#digest = digest === false ? undefined : { key: digest.key }
    this.#clock = resolved.clock ?? systemClock
    this.#logger = resolved.logger ?? silentLogger
  }

  /** Records the outcome of every exchange, refusals before decryption included. */
  wrapExchange(exchange: ReceivedExchange, next: Next): Promise<ExchangeResponse> {
    exchange.onEnd((outcome) => {
      try {
        this.log.record(this.#record(exchange, outcome))
      } catch (error) {
        this.#logger.warn({ code: (error as { code?: string }).code }, 'audit record refused')
      }
    })
    return next()
  }

  /**
   * Digests the request as it is when this stage's turn comes: listed before a redacting stage,
   * the digest covers what the client sent.
   */
  wrapAccepted(exchange: Exchange, next: Next): Promise<ExchangeResponse> {
    if (this.#digest !== undefined)
      exchange.annotations[DIGEST_ANNOTATION] = digestContent(exchange.body, this.#digest)
    return next()
  }

  #actor(request: CoreRequest): AuditActor {
    let actor: AuditActor | undefined
    if (this.#identify !== undefined) {
      try {
        const identified = this.#identify(request)
        actor = typeof identified === 'string' ? { subject: identified } : identified
      } catch {
        this.#logger.warn({}, 'audit identify() threw; recorded as anonymous')
      }
    }
    if (actor === undefined && this.#identityHeader !== undefined) {
      const subject = request.headers[this.#identityHeader]
      if (subject !== undefined && subject !== '') actor = { subject }
    }
    actor ??= ANONYMOUS
    if (request.remoteAddress === undefined || actor.remoteAddress !== undefined) return actor
    return { ...actor, remoteAddress: request.remoteAddress }
  }

  #record(exchange: ReceivedExchange, outcome: ExchangeOutcome): AuditRecordInput {
    const { request, route: match } = exchange
    const model = outcome.request?.model ?? match.params.model
    const scan = scannerAnnotationOf(exchange)
    const scanner: AuditScannerVerdict | undefined =
      scan === undefined
        ? undefined
        : {
            verdict: scan.action === 'allow' ? 'allow' : scan.action === 'block' ? 'block' : 'flag',
            score: scan.score,
            rules: scan.indicators,
          }
    const facts = outcome.response
    const usage = {
      ...(facts.inputTokens === undefined ? {} : { inputTokens: facts.inputTokens }),
      ...(facts.outputTokens === undefined ? {} : { outputTokens: facts.outputTokens }),
    }
    const contentDigest = exchange.annotations[DIGEST_ANNOTATION] as string | undefined
    const accepted = exchange.body !== undefined
    return {
      event: 'outcome',
      requestId: exchange.requestId,
      who: this.#actor(request),
      what: {
        action: match.route.operation,
        ...(contentDigest === undefined ? {} : { contentDigest }),
      },
      resource: {
        provider: match.route.adapter,
        route: `${match.route.adapter}.${match.route.name}`,
        ...(model === undefined ? {} : { model }),
      },
      outcome: auditOutcome(outcome),
      startedAt: exchange.startedAt,
      latencyMs: Math.max(0, outcome.endedAt - exchange.startedAt),
      ...(Object.keys(usage).length === 0 ? {} : { usage }),
      ...(scanner === undefined ? {} : { scanner }),
      attributes: {
        encrypted: accepted ? exchange.encrypted : request.headers[HEADERS.encryption] !== undefined,
        streaming: exchange.streaming,
        ...(exchange.keyId === undefined ? {} : { keyId: exchange.keyId }),
      },
    }
  }
}
