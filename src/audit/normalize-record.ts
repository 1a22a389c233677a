/**
 * Turns an `AuditRecordInput` into a record body at the moment `record()` is called: a deep copy
 * (the caller may reuse its objects afterwards), with unknown fields left out and every value
 * checked, so the background writer never meets a value it cannot canonicalise. Strings that may
 * come from clients (model names, ids) are cut to a bound rather than refused, so a hostile request
 * cannot turn auditing into an error; wrong types are programming errors and throw.
 */
import { ContinuumError } from '../errors'
import type {
  AuditAction,
  AuditActor,
  AuditAttributes,
  AuditDelegate,
  AuditOutcome,
  AuditRecordBody,
  AuditRecordInput,
  AuditResource,
  AuditScannerVerdict,
  AuditUsage,
} from './audit-record'
import { CONTENT_DIGEST_PATTERN } from './content-digest'

const EVENTS = new Set(['request', 'outcome'])
const OUTCOMES = new Set(['success', 'denied', 'blocked', 'error', 'cancelled'])
const VERDICTS = new Set(['allow', 'flag', 'block'])
const MAX_LIST = 64
const MAX_ATTRIBUTES = 64
// Lone surrogates cannot be canonicalised (RFC 8785); cutting a string can also split a pair.
const LONE_SURROGATES = /\p{Cs}/gu

/** Normalises and copies an input; throws CONTINUUM_AUDIT_INVALID_RECORD naming the bad field. */
export function normalizeRecord(
  input: AuditRecordInput,
  id: string,
  nowMs: number,
  maxFieldLength: number,
): AuditRecordBody {
  if (typeof input !== 'object' || input === null) throw invalid('input', 'is not an object')
  const text = (value: unknown, path: string): string => {
    if (typeof value !== 'string') throw invalid(path, 'is not a string')
    const bounded = value.length > maxFieldLength ? `${value.slice(0, maxFieldLength)}…` : value
    return bounded.replace(LONE_SURROGATES, '\uFFFD')
  }
  const optionalText = (value: unknown, path: string): string | undefined =>
    value === undefined ? undefined : text(value, path)
  const texts = (value: unknown, path: string): string[] | undefined => {
    if (value === undefined) return undefined
    if (!Array.isArray(value)) throw invalid(path, 'is not an array')
    return value.slice(0, MAX_LIST).map((item, index) => text(item, `${path}[${index}]`))
  }

  if (!EVENTS.has(input.event)) throw invalid('event', "is not 'request' or 'outcome'")
  if (input.event === 'outcome' && input.outcome === undefined)
    throw invalid('outcome', 'is required on outcome records')
  return {
    event: input.event,
    id,
    time: new Date(nowMs).toISOString(),
    requestId: text(input.requestId, 'requestId'),
    who: actor(input.who, text, optionalText),
    what: action(input.what, text, texts),
    resource: input.resource === undefined ? undefined : resource(input.resource, optionalText),
    why: optionalText(input.why, 'why'),
    outcome: input.outcome === undefined ? undefined : outcome(input.outcome, optionalText),
    startedAt: startedAt(input.startedAt),
    latencyMs: optionalNumber(input.latencyMs, 'latencyMs'),
    usage: input.usage === undefined ? undefined : usage(input.usage),
    scanner: input.scanner === undefined ? undefined : scanner(input.scanner, texts),
    classification: texts(input.classification, 'classification'),
    attributes: input.attributes === undefined ? undefined : attributes(input.attributes, text),
  }
}

type Text = (value: unknown, path: string) => string
type OptionalText = (value: unknown, path: string) => string | undefined
type Texts = (value: unknown, path: string) => string[] | undefined

function actor(who: AuditActor, text: Text, optionalText: OptionalText): AuditActor {
  objectAt(who, 'who')
  let delegation: AuditDelegate[] | undefined
  if (who.delegation !== undefined) {
    if (!Array.isArray(who.delegation)) throw invalid('who.delegation', 'is not an array')
    delegation = who.delegation.slice(0, MAX_LIST).map((hop, index) => {
      objectAt(hop, `who.delegation[${index}]`)
      return {
        subject: text(hop.subject, `who.delegation[${index}].subject`),
        type: optionalText(hop.type, `who.delegation[${index}].type`),
      }
    })
  }
  return {
    subject: text(who.subject, 'who.subject'),
    type: optionalText(who.type, 'who.type'),
    tenant: optionalText(who.tenant, 'who.tenant'),
    remoteAddress: optionalText(who.remoteAddress, 'who.remoteAddress'),
    delegation,
  }
}

function action(what: AuditAction, text: Text, texts: Texts): AuditAction {
  objectAt(what, 'what')
  if (what.contentDigest !== undefined && !CONTENT_DIGEST_PATTERN.test(String(what.contentDigest))) {
    // The content itself must never land in the log: only digestContent() output is accepted.
    throw invalid('what.contentDigest', 'is not a sha256:<hex> or hmac-sha256:<hex> digest')
  }
  return {
    action: text(what.action, 'what.action'),
    contentDigest: what.contentDigest,
    fields: texts(what.fields, 'what.fields'),
  }
}

function resource(value: AuditResource, optionalText: OptionalText): AuditResource {
  objectAt(value, 'resource')
  return {
    model: optionalText(value.model, 'resource.model'),
    provider: optionalText(value.provider, 'resource.provider'),
    route: optionalText(value.route, 'resource.route'),
  }
}

function outcome(value: AuditOutcome, optionalText: OptionalText): AuditOutcome {
  objectAt(value, 'outcome')
  if (!OUTCOMES.has(value.status))
    throw invalid('outcome.status', `is not one of ${[...OUTCOMES].join(', ')}`)
  return {
    status: value.status,
    httpStatus: optionalNumber(value.httpStatus, 'outcome.httpStatus'),
    errorCode: optionalText(value.errorCode, 'outcome.errorCode'),
  }
}

function usage(value: AuditUsage): AuditUsage {
  objectAt(value, 'usage')
  return {
    inputTokens: optionalNumber(value.inputTokens, 'usage.inputTokens'),
    outputTokens: optionalNumber(value.outputTokens, 'usage.outputTokens'),
    totalTokens: optionalNumber(value.totalTokens, 'usage.totalTokens'),
  }
}

function scanner(value: AuditScannerVerdict, texts: Texts): AuditScannerVerdict {
  objectAt(value, 'scanner')
  if (!VERDICTS.has(value.verdict)) throw invalid('scanner.verdict', "is not 'allow', 'flag' or 'block'")
  return {
    verdict: value.verdict,
    score: optionalNumber(value.score, 'scanner.score'),
    rules: texts(value.rules, 'scanner.rules'),
  }
}

function attributes(value: AuditAttributes, text: Text): AuditAttributes {
  objectAt(value, 'attributes')
  const result: Record<string, string | number | boolean | null> = {}
  for (const [key, item] of Object.entries(value).slice(0, MAX_ATTRIBUTES)) {
    const name = text(key, 'attributes key')
    if (typeof item === 'string') result[name] = text(item, `attributes.${name}`)
    else if (typeof item === 'number') result[name] = finite(item, `attributes.${name}`)
    else if (typeof item === 'boolean' || item === null) result[name] = item
    else throw invalid(`attributes.${name}`, 'is not a string, number, boolean or null')
  }
  return result
}

function startedAt(value: number | Date | undefined): string | undefined {
  if (value === undefined) return undefined
  const ms = value instanceof Date ? value.getTime() : value
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalid('startedAt', 'is not a valid time')
  return new Date(ms).toISOString()
}

function optionalNumber(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : finite(value, path)
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(path, 'is not a finite number')
  return value
}

function objectAt(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(path, 'is not an object')
}

function invalid(path: string, problem: string): ContinuumError {
  return new ContinuumError('CONTINUUM_AUDIT_INVALID_RECORD', `Audit record ${path} ${problem}`, {
    details: { field: path },
  })
}
