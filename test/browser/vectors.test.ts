/**
 * The shared vectors (test/fixtures/protocol-vectors.json) against the client's web-crypto layer
 * in Node, on both of its backends: WebCrypto (what browsers and edge runtimes run) and
 * node:crypto (what Node runs). The same check runs in Chromium in chromium.test.ts; the server
 * and the Node client are checked in test/protocol.test.ts, the Python client in clients/python.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { defaultBackend, webCryptoBackend } from '../../src/client/web-crypto/index'
import { checkSharedVectors } from './vector-check'

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/protocol-vectors.json', import.meta.url), 'utf8'),
)

describe('shared protocol vectors, client web-crypto layer in Node', () => {
  it('picks node:crypto on Node', () => {
    expect(defaultBackend().name).toBe('node')
  })

  for (const backend of [webCryptoBackend, defaultBackend()]) {
    it(`reproduces every vector on ${backend.name}`, async () => {
      const report = await checkSharedVectors(vectors, backend)
      expect(report.failures).toEqual([])
      expect(report.checks).toBeGreaterThan(700)
    })
  }

  it('notices a vector that was changed', async () => {
    const changed = structuredClone(vectors)
    changed.published.field.ciphertext = changed.published.field.ciphertext.replace(/.$/, (last: string) =>
      last === 'A' ? 'B' : 'A',
    )
    changed.streams[0].plain += ' '
    const report = await checkSharedVectors(changed, webCryptoBackend)
    expect(report.failures.length).toBeGreaterThanOrEqual(2)
  })
})
