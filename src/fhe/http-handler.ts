/**
 * The framework-neutral HTTP surface of the FHE service, mounted by the Express, Koa and Fastify
 * middlewares: `GET /v1/fhe/params`, `POST /v1/fhe/keys` (binary, or base64 in JSON),
 * `DELETE /v1/fhe/keys/{keyId}`, `POST /v1/fhe/similarity` and `POST /v1/fhe/linear` (JSON with
 * base64 ciphertexts). Every request first goes through the `authorize` hook, which names the
 * caller: keys are held, used and counted against quotas per caller. Bodies are size-limited while
 * they stream in; every failure is a JSON error body with its code and status.
 */
import type { CoreHandler, CoreRequest, CoreResponse } from '../core/http'
import { ContinuumError, toContinuumError } from '../errors'
import { isValidKeyId } from './envelope'
import type { FheCaller, FheService } from './fhe-service'
import type { LayoutMode } from './layout'

/** Options of {@link createFheHandler}. */
export interface FheHandlerOptions {
  /** The service answering the requests. */
  service: FheService
  /**
   * Path prefix the routes live under.
   * @default '/v1/fhe'
   */
  basePath?: string
  /**
   * Names the caller of each request (from your authentication: a verified token, a client
   * certificate), or refuses it by returning undefined (401 `CONTINUUM_FHE_UNAUTHORIZED`) or
   * throwing a ContinuumError (its status). Keys are held per caller: one caller cannot use,
   * replace or crowd out another's. Never name callers by a header a client chooses freely.
   * @default undefined (every caller is `anonymous` and they share one key quota)
   */
  authorize?: (request: CoreRequest) => string | undefined | Promise<string | undefined>
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/

const json = (status: number, value: unknown): CoreResponse => ({
  status,
  headers: { ...JSON_HEADERS },
  body: JSON.stringify(value),
})

/** Renders an error as its JSON body with its status (and Retry-After when it has one). */
export function errorResponse(error: unknown): CoreResponse {
  const failure = toContinuumError(error)
  const response = json(failure.status, failure.toJSON())
  if (failure.retryAfterSeconds !== undefined)
    response.headers['retry-after'] = String(failure.retryAfterSeconds)
  return response
}

/** Reads a body into memory, failing with 413 as soon as it passes `limit`. */
async function readBytes(request: CoreRequest, limit: number): Promise<Uint8Array> {
  const body = request.body
  const tooLarge = () =>
    new ContinuumError('CONTINUUM_BODY_TOO_LARGE', `Request body over ${limit} bytes`, { details: { limit } })
  switch (body.kind) {
    case 'empty':
      return new Uint8Array(0)
    case 'bytes':
      if (body.bytes.byteLength > limit) throw tooLarge()
      return body.bytes
    case 'parsed': {
      if (body.value instanceof Uint8Array) {
        if (body.value.byteLength > limit) throw tooLarge()
        return body.value
      }
      const text = typeof body.value === 'string' ? body.value : JSON.stringify(body.value)
      if (Buffer.byteLength(text) > limit) throw tooLarge()
      return Buffer.from(text)
    }
    case 'stream': {
      // Iterated by hand: leaving a for-await early would destroy the socket before the 413 is sent.
      const chunks: Uint8Array[] = []
      const iterator = body.stream[Symbol.asyncIterator]()
      let total = 0
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        total += next.value.byteLength
        if (total > limit) throw tooLarge()
        chunks.push(next.value)
      }
      return Buffer.concat(chunks)
    }
  }
}

/** Reads a JSON object body (an already parsed one is taken as is). */
async function readJson(request: CoreRequest, limit: number): Promise<Record<string, unknown>> {
  const contentType = request.headers['content-type'] ?? ''
  if (request.body.kind !== 'parsed' && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new ContinuumError('CONTINUUM_UNSUPPORTED_MEDIA_TYPE', 'This route expects application/json')
  }
  let value: unknown
  if (
    request.body.kind === 'parsed' &&
    !(request.body.value instanceof Uint8Array) &&
    typeof request.body.value !== 'string'
  ) {
    value = request.body.value
    await readBytes(request, limit)
  } else {
    try {
      value = JSON.parse(Buffer.from(await readBytes(request, limit)).toString('utf8'))
    } catch (error) {
      if (ContinuumError.isInstance(error)) throw error
      throw new ContinuumError('CONTINUUM_INVALID_JSON', 'Request body is not valid JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', 'Request body must be a JSON object')
  }
  return value as Record<string, unknown>
}

const requireString = (body: Record<string, unknown>, field: string): string => {
  const value = body[field]
  if (typeof value !== 'string' || value.length === 0) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `Field "${field}" must be a non-empty string`, {
      details: { path: field },
    })
  }
  return value
}

const requireBase64 = (body: Record<string, unknown>, field: string): Uint8Array => {
  const value = requireString(body, field)
  if (value.length % 4 !== 0 || !BASE64_PATTERN.test(value)) {
    throw new ContinuumError('CONTINUUM_SCHEMA_VIOLATION', `Field "${field}" must be standard base64`, {
      details: { path: field },
    })
  }
  return Buffer.from(value, 'base64')
}

/** Runs the authorize hook; anything but a named caller or a ContinuumError is a 401. */
async function callerOf(authorize: FheHandlerOptions['authorize'], request: CoreRequest): Promise<FheCaller> {
  if (authorize === undefined) return {}
  let identity: string | undefined
  try {
    identity = await authorize(request)
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    identity = undefined
  }
  if (typeof identity !== 'string' || identity.length === 0 || identity.length > 256) {
    throw new ContinuumError('CONTINUUM_FHE_UNAUTHORIZED', 'The caller is not authorized for the FHE service')
  }
  return { identity }
}

const productBody = (result: { keyId: string; layout: unknown; results: Uint8Array[] }) => ({
  keyId: result.keyId,
  layout: result.layout,
  results: result.results.map((bytes) => Buffer.from(bytes).toString('base64')),
})

/** Creates the FHE request handler; it resolves `undefined` for paths outside `basePath`. */
export function createFheHandler(options: FheHandlerOptions): CoreHandler {
  const { service, authorize } = options
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createFheHandler: authorize must be a function')
  }
  const basePath = (options.basePath ?? '/v1/fhe').replace(/\/+$/, '')
  if (!basePath.startsWith('/')) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createFheHandler: basePath must start with "/"')
  }
  // base64 grows bytes by 4/3; JSON framing adds a little.
  const productLimit = Math.ceil((service.maxCiphertextBytes * 4) / 3) + 4096
  const keyJsonLimit = Math.ceil((service.maxKeyBytes * 4) / 3) + 4096

  type Run = (request: CoreRequest, caller: FheCaller) => Promise<CoreResponse>
  const routes: Record<string, { method: string; run: Run }> = {
    '/params': { method: 'GET', run: async () => json(200, service.describe()) },
    '/keys': {
      method: 'POST',
      run: async (request, caller) => {
        const contentType = request.headers['content-type'] ?? ''
        let bundle: Uint8Array
        if (/^application\/octet-stream\b/i.test(contentType)) {
          bundle = await readBytes(request, service.maxKeyBytes)
        } else {
          bundle = requireBase64(await readJson(request, keyJsonLimit), 'keys')
        }
        const { created, ...upload } = await service.uploadEvaluationKeys(bundle, caller)
        return json(created ? 201 : 200, upload)
      },
    },
    '/similarity': {
      method: 'POST',
      run: async (request, caller) => {
        const body = await readJson(request, productLimit)
        const layout = body.layout ?? 'single'
        if (layout !== 'single' && layout !== 'batched') {
          throw new ContinuumError(
            'CONTINUUM_SCHEMA_VIOLATION',
            'Field "layout" must be "single" or "batched"',
            {
              details: { path: 'layout' },
            },
          )
        }
        const result = await service.similarity(
          {
            keyId: requireString(body, 'keyId'),
            collection: requireString(body, 'collection'),
            query: requireBase64(body, 'query'),
            layout: layout as LayoutMode,
          },
          caller,
        )
        return json(200, productBody(result))
      },
    },
    '/linear': {
      method: 'POST',
      run: async (request, caller) => {
        const body = await readJson(request, productLimit)
        const result = await service.linear(
          {
            keyId: requireString(body, 'keyId'),
            layer: requireString(body, 'layer'),
            input: requireBase64(body, 'input'),
          },
          caller,
        )
        return json(200, productBody(result))
      },
    },
  }

  /** `DELETE /keys/{keyId}`: the caller's keys under that id. */
  const deleteKeys =
    (keyId: string): Run =>
    async (_request, caller) => {
      if (!(await service.deleteEvaluationKeys(keyId, caller))) {
        throw new ContinuumError('CONTINUUM_FHE_KEYS_UNKNOWN', 'No evaluation keys are held for this key id')
      }
      return { status: 204, headers: { 'cache-control': 'no-store' }, body: null }
    }

  return async (request) => {
    const path = request.url.split('?', 1)[0] ?? ''
    if (!path.startsWith(`${basePath}/`)) return undefined
    const relative = path.slice(basePath.length)
    const keyId = relative.startsWith('/keys/') ? relative.slice('/keys/'.length) : undefined
    const route = Object.hasOwn(routes, relative)
      ? routes[relative]
      : keyId !== undefined && isValidKeyId(keyId)
        ? { method: 'DELETE', run: deleteKeys(keyId) }
        : undefined
    if (route === undefined) return undefined
    try {
      if (request.method !== route.method) {
        const response = errorResponse(
          new ContinuumError('CONTINUUM_METHOD_NOT_ALLOWED', `${path} accepts ${route.method} only`),
        )
        response.headers.allow = route.method
        return response
      }
      return await route.run(request, await callerOf(authorize, request))
    } catch (error) {
      return errorResponse(error)
    }
  }
}
