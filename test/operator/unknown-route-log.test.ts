/**
 * A path no adapter serves is answered 501 CONTINUUM_ROUTE_NOT_SUPPORTED under
 * `unknownRoutes: 'reject'` (what `continuum-proxy serve` runs with). It is the client's path,
 * not a failure of the host: a scanner walking a thousand paths must not write a thousand `warn`
 * lines, which would bury the warnings that matter. The access log still records each by code,
 * and a real server-side failure (the upstream refusing connections) still warns.
 */
import { createProxy, type LogFields, type Logger } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { describe, expect, it } from 'vitest'

function recorder(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const at =
    (level: string) =>
    (fields: LogFields, message: string): void => {
      lines.push({ level, message, ...fields })
    }
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

function request(
  method: string,
  url: string,
  body = '',
): Parameters<ReturnType<typeof createProxy>['handle']>[0] {
  return {
    method,
    url,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body: body === '' ? { kind: 'empty' } : { kind: 'bytes', bytes: new TextEncoder().encode(body) },
    signal: new AbortController().signal,
  }
}

describe('the warn line of a refused request', () => {
  it('is not written for a path no adapter serves; the access line keeps its code', async () => {
    const log = recorder()
    // Port 9 on loopback (discard) refuses connections on any test machine.
    const proxy = createProxy({
      upstream: 'http://127.0.0.1:9',
      adapters: builtinAdapters(),
      unknownRoutes: 'reject',
      logger: log.logger,
      accessLog: true,
    })
    try {
      for (const path of ['/admin', '/.env', '/v1/unknown', '/wp-login.php']) {
        const answer = await proxy.handle(request('GET', path))
        expect(answer?.status).toBe(501)
      }
      expect(log.lines.filter((line) => line.level === 'warn')).toEqual([])
      const access = log.lines.filter((line) => line.message === 'request')
      expect(access).toHaveLength(4)
      for (const line of access)
        expect(line).toMatchObject({ status: 501, code: 'CONTINUUM_ROUTE_NOT_SUPPORTED' })

      const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
      const failed = await proxy.handle(request('POST', '/v1/chat/completions', body))
      expect(failed?.status).toBe(502)
      expect(log.lines.filter((line) => line.level === 'warn')).toEqual([
        expect.objectContaining({
          message: 'request failed',
          code: 'CONTINUUM_UPSTREAM_UNAVAILABLE',
          status: 502,
        }),
      ])
    } finally {
      await proxy.close()
    }
  })
})
