/**
 * The gateway's upstream: an `Upstream` that answers from an InferenceRouter instead of an HTTP
 * server, so the proxy pipeline (field decryption, schema validation, stages, re-encryption and
 * stream sealing) serves any protocol whose adapter declares gateway codecs, over any provider
 * the router knows. The matched route's codec turns the decrypted body into a canonical call and
 * the router's answer back into the protocol's objects (a JSON body, or stream events), which the
 * pipeline then seals and frames. Failures before the first chunk become the protocol's error
 * body with our status and code; a failure after it makes the event stream throw, so the
 * pipeline writes the protocol's error frame and no end: no client takes a cut answer for a whole one.
 */
import { randomUUID } from 'node:crypto'
import { type Clock, systemClock } from '../../core/clock'
import { ContinuumError, toContinuumError } from '../../errors'
import { CREDENTIAL_HEADERS } from '../../internal/credential-headers'
import { isWellFormedRequestId } from '../../internal/request-id'
import type { DataClassification, RequestMetadata, StreamChunk } from '../../protocol/canonical'
import type { GatewayAnswerContext, GatewayCodec, GatewayStreamWriter } from '../../protocol/gateway-codec'
import type { StreamEvent } from '../../protocol/stream-event'
import type { ExchangeResponse } from '../../proxy/exchange'
import type { GatewayOptions } from '../../proxy/gateway-source'
import type { Upstream, UpstreamRequest } from '../../proxy/upstream'
import type { InferenceRouter } from '../inference-router'

const CLASSIFICATIONS = new Set<DataClassification>(['public', 'internal', 'confidential', 'restricted'])
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/
const JSON_HEADERS = { 'content-type': 'application/json' }

function headerOption(
  value: string | false | undefined,
  fallback: string | false,
  name: string,
): string | false {
  const resolved = value ?? fallback
  if (resolved !== false && (typeof resolved !== 'string' || !/^[a-z0-9-]+$/i.test(resolved))) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', `${name} must be a header name or false`)
  }
  if (resolved === false) return false
  const header = resolved.toLowerCase()
  // The proxy keeps its own headers from the upstream, so one of them would silently never be read.
  if (header.startsWith('x-continuum-')) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `${name} "${header}": x-continuum- headers never reach the gateway; name another header`,
    )
  }
  if (CREDENTIAL_HEADERS.has(header)) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `${name} "${header}" carries credentials; set the caller from your authentication layer instead`,
    )
  }
  return header
}

function json(status: number, value: Record<string, unknown>, failure?: ContinuumError): ExchangeResponse {
  return {
    status,
    headers: JSON_HEADERS,
    body: { type: 'json', value },
    ...(failure === undefined ? {} : { failure }),
  }
}

function hexId(): string {
  return randomUUID().replaceAll('-', '')
}

/**
 * Writes a started router stream as protocol events. A router error chunk, a throw, or an end
 * without a finish makes the iteration throw the failure.
 */
async function* routerEvents(
  first: StreamChunk,
  iterator: AsyncIterator<StreamChunk>,
  writer: GatewayStreamWriter,
): AsyncGenerator<StreamEvent> {
  try {
    let chunk: StreamChunk = first
    for (;;) {
      if (chunk.type === 'error') throw chunk.error
      yield* writer.push(chunk)
      const next = await iterator.next()
      if (next.done) break
      chunk = next.value
    }
    if (!writer.finished) {
      throw new ContinuumError('CONTINUUM_STREAM_INTERRUPTED', 'The router stream ended without finishing')
    }
  } finally {
    // Reached when the consumer stops reading too: the router aborts the provider's request.
    void iterator.return?.()?.catch(() => undefined)
  }
}

/** Builds the gateway upstream over a router; `InferenceRouter.gatewayUpstream()` calls it. */
export function createRouterUpstream(router: InferenceRouter, options: GatewayOptions = {}): Upstream {
  if (typeof options !== 'object' || options === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'gateway options must be an object')
  }
  const callerIdHeader = headerOption(options.callerIdHeader, 'x-caller-id', 'callerIdHeader')
  const classificationHeader = headerOption(options.classificationHeader, false, 'classificationHeader')
  if (options.callerId !== undefined && (typeof options.callerId !== 'string' || options.callerId === '')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'callerId must be a non-empty string')
  }
  const defaultCaller = options.callerId
  const closeRouter = options.closeRouter ?? false
  const clock: Clock = options.clock ?? systemClock

  function metadataOf(headers: Record<string, string>): RequestMetadata {
    const metadata: RequestMetadata = {}
    const caller = (callerIdHeader === false ? undefined : headers[callerIdHeader]) ?? defaultCaller
    if (caller !== undefined && caller !== '') metadata.callerId = caller
    // The client's x-request-id only in the shape every record of it may carry.
    const requestId = headers['x-request-id']
    const trace =
      TRACEPARENT.exec(headers.traceparent ?? '')?.[1] ??
      (requestId !== undefined && isWellFormedRequestId(requestId) ? requestId : undefined)
    if (trace !== undefined) metadata.traceId = trace
    if (classificationHeader !== false) {
      const declared = headers[classificationHeader]?.trim().toLowerCase()
      if (declared !== undefined) {
        if (!CLASSIFICATIONS.has(declared as DataClassification)) {
          throw new ContinuumError(
            'CONTINUUM_SCHEMA_VIOLATION',
            `${classificationHeader} must be public, internal, confidential or restricted`,
            { details: { path: `headers.${classificationHeader}` } },
          )
        }
        metadata.classification = declared as DataClassification
      }
    }
    return metadata
  }

  function answerContext(model: string): GatewayAnswerContext {
    return { model, created: Math.floor(clock.now() / 1000), id: hexId }
  }

  async function answer(request: UpstreamRequest, codec: GatewayCodec): Promise<ExchangeResponse> {
    const body = request.body.type === 'json' ? request.body.value : undefined
    switch (codec.kind) {
      case 'model-list':
        return json(200, codec.list(router.models()))
      case 'model': {
        const id = request.route?.params.model ?? ''
        const listing = router.models().find((candidate) => candidate.id === id)
        if (listing === undefined)
          throw new ContinuumError('CONTINUUM_MODEL_NOT_FOUND', 'The router serves no such model')
        return json(200, codec.model(listing))
      }
      case 'embeddings': {
        if (body === undefined) throw notServed(request)
        const call = codec.decode(body)
        const metadata = metadataOf(request.headers)
        const response = await router.embed({ ...call.request, metadata, signal: request.signal })
        return json(200, call.response(response, answerContext(call.request.model)))
      }
      case 'count-tokens': {
        if (body === undefined) throw notServed(request)
        const call = codec.decode(body)
        const metadata = metadataOf(request.headers)
        const count = await router.countTokens({ ...call.request, metadata, signal: request.signal })
        return json(200, call.response(count, answerContext(call.request.model)))
      }
      case 'chat': {
        if (body === undefined) throw notServed(request)
        const call = codec.decode(body)
        const canonical = { ...call.request, metadata: metadataOf(request.headers), signal: request.signal }
        const context = answerContext(canonical.model)
        if (!call.stream) {
          const response = await router.complete(canonical)
          return json(
            200,
            call.response(response.id === '' ? { ...response, id: hexId() } : response, context),
          )
        }
        // Waits for the first chunk, so failover and errors before it still get a status code.
        const iterator = router.stream(canonical)[Symbol.asyncIterator]()
        const first = await iterator.next()
        if (first.done) {
          throw new ContinuumError(
            'CONTINUUM_NO_PROVIDER_AVAILABLE',
            'The router stream ended before any chunk',
          )
        }
        try {
          if (first.value.type === 'error') throw first.value.error
          const writer = call.writer(context)
          return {
            status: 200,
            headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
            body: { type: 'events', events: routerEvents(first.value, iterator, writer) },
          }
        } catch (error) {
          // The router stream waits at its first chunk, holding its concurrency slot, breaker
          // probe and provider request until it is ended: answering the error alone would hold them
          // forever.
          await iterator.return?.()?.catch(() => undefined)
          throw error
        }
      }
    }
  }

  function notServed(request: UpstreamRequest): ContinuumError {
    const path = request.url.split('?', 1)[0]
    return new ContinuumError(
      'CONTINUUM_ROUTE_NOT_SUPPORTED',
      `The router gateway does not serve ${request.method} ${path}`,
    )
  }

  return {
    async send(request) {
      const codec = await request.route?.route.gateway?.()
      if (codec === undefined) {
        // No protocol codec to write the error in: the pipeline answers in its own format.
        throw notServed(request)
      }
      try {
        return await answer(request, codec)
      } catch (error) {
        const failure = toContinuumError(error)
        const response = json(failure.status, codec.error(failure), failure)
        if (failure.retryAfterSeconds === undefined) return response
        return {
          ...response,
          headers: { ...JSON_HEADERS, 'retry-after': String(Math.ceil(failure.retryAfterSeconds)) },
        }
      }
    },
    async close() {
      if (closeRouter) await router.close()
    },
  }
}
