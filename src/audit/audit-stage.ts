/**
 * The audit log as a proxy stage: one signed `outcome` record per request on an encrypted route,
 * including requests refused before they were decrypted (bad keys, replays, schema violations),
 * which matter most to an investigator. A record names the caller, the route, model, status, error
 * code, latency, token counts and the scanner's verdict, and holds a digest of the decrypted
 * request instead of its content. `AuditLog.record()` only queues, so the request never waits on disk.
 */
import { randomUUID } from 'node:crypto'
import { HEADERS } from '../cipher/format'
import type { Clock } from '../core/clock'
import { systemClock } from '../core/clock'
import type { CoreRequest } from '../core/http'
import type { Logger } from '../core/logger'
import { silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { RouteMatch } from '../protocol/registry'
import { scannerAnnotationOf } from '../proxy/scan-annotation'
import type { Exchange, ExchangeObservation, ExchangeOutcome, ProxyStage } from '../proxy/stage'
import { operationOf, type ResponseFacts, readRequestFacts, readResponseFacts } from '../telemetry/genai'
import {
  type AuditActor,
  AuditLog,
  type AuditOutcome,
  type AuditRecordInput,
  type AuditScannerVerdict,
  digestContent,
} from './'

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
   * Digest of the decrypted request in `what.contentDigest`: `{ key }` for HMAC-SHA-256 (recommended:
   * a plain hash of a short prompt can be guessed from a dictionary), `{}` for SHA-256, `false` for none.
   * @default {}
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

/** Headers that carry credentials: never an identity to write into a log. */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
])

const ANONYMOUS: AuditActor = { subject: 'anonymous' }

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
    const resolved: AuditStageOptions = options instanceof AuditLog ? { log: options } : options
    if (!(resolved?.log instanceof AuditLog)) throw invalid('log must be an AuditLog')
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
    if (digest !== false && digest.key !== undefined) digestContent('', digest) // checks the key length now
    this.log = resolved.log
    this.#identityHeader = header
    this.#identify = resolved.identify
    this.#digest = digest === false ? undefined : digest
    this.#clock = resolved.clock ?? systemClock
    this.#logger = resolved.logger ?? silentLogger
  }

  observe(request: CoreRequest, match: RouteMatch): ExchangeObservation {
    const startedAt = this.#clock.now()
    const facts: ResponseFacts = { finishReasons: [] }
    let exchange: Exchange | undefined
    let contentDigest: string | undefined
    return {
      phase: () => () => {},
      accepted: (accepted) => {
        exchange = accepted
        // Digest the request as the client sent it, before a stage could change it.
        if (this.#digest !== undefined) contentDigest = digestContent(accepted.body, this.#digest)
      },
      upstreamEvent: (event) => readResponseFacts(facts, event),
      end: (outcome) => {
        try {
          this.log.record(this.#record(request, match, startedAt, outcome, exchange, facts, contentDigest))
        } catch (error) {
          this.#logger.warn('audit record refused', { code: (error as { code?: string }).code })
        }
      },
    }
  }

  #actor(request: CoreRequest): AuditActor {
    let actor: AuditActor | undefined
    if (this.#identify !== undefined) {
      try {
        const identified = this.#identify(request)
        actor = typeof identified === 'string' ? { subject: identified } : identified
      } catch {
        this.#logger.warn('audit identify() threw; recorded as anonymous')
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

  #record(
    request: CoreRequest,
    match: RouteMatch,
    startedAt: number,
    outcome: ExchangeOutcome,
    exchange: Exchange | undefined,
    facts: ResponseFacts,
    contentDigest: string | undefined,
  ): AuditRecordInput {
    const model =
      exchange === undefined ? match.params.model : readRequestFacts(exchange.body, match.params).model
    const scan = exchange === undefined ? undefined : scannerAnnotationOf(exchange)
    const scanner: AuditScannerVerdict | undefined =
      scan === undefined
        ? undefined
        : {
            verdict: scan.action === 'allow' ? 'allow' : scan.action === 'block' ? 'block' : 'flag',
            score: scan.score,
            rules: scan.indicators,
          }
    const usage = {
      ...(facts.inputTokens === undefined ? {} : { inputTokens: facts.inputTokens }),
      ...(facts.outputTokens === undefined ? {} : { outputTokens: facts.outputTokens }),
    }
    return {
      event: 'outcome',
      requestId: exchange?.requestId ?? request.headers['x-request-id'] ?? randomUUID(),
      who: this.#actor(request),
      what: {
        action: operationOf(match.route),
        ...(contentDigest === undefined ? {} : { contentDigest }),
      },
      resource: {
        provider: match.route.adapter,
        route: `${match.route.adapter}.${match.route.name}`,
        ...(model === undefined ? {} : { model }),
      },
      outcome: auditOutcome(outcome),
      startedAt,
      latencyMs: Math.max(0, outcome.endedAt - startedAt),
      ...(Object.keys(usage).length === 0 ? {} : { usage }),
      ...(scanner === undefined ? {} : { scanner }),
      attributes: {
        encrypted: exchange?.encrypted ?? request.headers[HEADERS.encryption] !== undefined,
        streaming: exchange?.streaming ?? false,
        ...(exchange?.keyId === undefined ? {} : { keyId: exchange.keyId }),
      },
    }
  }
}
