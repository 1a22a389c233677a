/**
 * The `upstream` option, checked before anything is built: a URL string or `UpstreamOptions`
 * whose mistakes would otherwise show up only as 404s or silent rewrites at request time. The
 * usual one is the client-side base URL of vLLM (`http://127.0.0.1:8000/v1`): the proxy forwards
 * the client's whole route path (`/v1/chat/completions`), so every request would go to
 * `/v1/v1/...`. Credentials and a query in the URL would be dropped without a word. Each refusal
 * names the option and what to write instead. A ready `Upstream` object is taken as it is.
 */
import { ContinuumError } from '../errors'
import type { UpstreamOptions } from './http-upstream'
import { isUpstream, type Upstream } from './upstream'

/** A path segment clients put in their base URL but the proxy's routes already carry: `v1`, `v2`, `v1beta`. */
const VERSION_SEGMENT = /^v\d+[a-z]*$/i

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `continuum-proxy: ${message}`)
}

function checkUrl(text: string, name: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw invalid(
      `${name} is not a URL: give the inference server's base URL, e.g. 'http://127.0.0.1:8000'` +
        ` (or { socketPath: '/run/vllm.sock' } for a Unix socket)`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${name} must be an http: or https: URL`)
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(
      `${name} holds credentials, which would not be sent: put the server's key in upstream.headers` +
        ` instead, e.g. { url, headers: { authorization: 'Bearer …' } }`,
    )
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalid(`${name} must not have a query or fragment: give the server's base URL only`)
  }
  const last = url.pathname.split('/').filter(Boolean).at(-1)
  if (last !== undefined && VERSION_SEGMENT.test(last)) {
    const base = `${url.origin}${url.pathname.slice(0, url.pathname.lastIndexOf(`/${last}`))}`
    throw invalid(
      `${name} ends in the version segment /${last}, but the proxy forwards the whole route path` +
        ` (/${last}/chat/completions), so requests would go to /${last}/${last}/...: give the server's` +
        ` base URL without it, '${base}'. (Clients keep /${last} in their base URL.)`,
    )
  }
  return url
}

/** Checks the `upstream` option; throws CONTINUUM_INVALID_OPTIONS naming what to change. */
export function checkUpstreamOption(
  upstream: unknown,
): asserts upstream is string | UpstreamOptions | Upstream {
  if (typeof upstream === 'string') {
    if (upstream.trim() === '') {
      throw invalid(
        "upstream is empty (an unset environment variable?): give the inference server's base URL, e.g. 'http://127.0.0.1:8000'",
      )
    }
    checkUrl(upstream, 'upstream')
    return
  }
  if (isUpstream(upstream)) return
  if (typeof upstream !== 'object' || upstream === null || Array.isArray(upstream)) {
    throw invalid(
      "upstream must be a URL string ('http://127.0.0.1:8000'), options ({ url } or { socketPath })," +
        ' or an Upstream object with send() and close()',
    )
  }
  const options = upstream as UpstreamOptions
  if (options.url === undefined && options.socketPath === undefined) {
    throw invalid("upstream needs a url ('http://127.0.0.1:8000') or a socketPath ('/run/vllm.sock')")
  }
  if (options.url !== undefined) {
    if (typeof options.url !== 'string') throw invalid('upstream.url must be a string')
    checkUrl(options.url, 'upstream.url')
  }
  if (
    options.socketPath !== undefined &&
    (typeof options.socketPath !== 'string' || options.socketPath === '')
  ) {
    throw invalid('upstream.socketPath must be the path of a Unix socket, e.g. /run/vllm.sock')
  }
  if (options.headers !== undefined) {
    const headers = options.headers as unknown
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw invalid('upstream.headers must be an object of header names to strings')
    }
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') {
        throw invalid(`upstream.headers["${name}"] must be a string (an unset environment variable?)`)
      }
    }
  }
}

/** How the start-up line names the upstream: its base URL or socket, never credentials or headers. */
export function describeUpstream(upstream: string | UpstreamOptions | Upstream): string {
  if (typeof upstream === 'string') {
    const url = new URL(upstream)
    return `${url.origin}${url.pathname.replace(/\/$/, '')}`
  }
  if (isUpstream(upstream)) return 'custom'
  if (upstream.socketPath !== undefined) return `unix:${upstream.socketPath}`
  return describeUpstream(upstream.url!)
}
