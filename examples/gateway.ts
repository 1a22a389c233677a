/**
 * The example gateway (`npm start`): an Express app with continuum-proxy in front of an inference
 * server. With no configuration it starts the DEMO upstream (an echo server, no GPU needed) and a
 * fresh random key, and prints how to call it. Point it at a real server with environment variables:
 *
 *   CONTINUUM_UPSTREAM=http://127.0.0.1:8000     (or CONTINUUM_UPSTREAM_SOCKET=/run/vllm.sock)
 *   CONTINUUM_KEY_ID=k1 CONTINUUM_KEY=<32 bytes, base64url>
 *   PORT=8080
 */
import { randomBytes } from 'node:crypto'
import { generateAgreementKeyPair } from 'continuum-proxy'
import { continuum } from 'continuum-proxy/express'
import express from 'express'
import { startDemoUpstream } from './demo-upstream'

const port = Number(process.env.PORT ?? 8080)
const keyId = process.env.CONTINUUM_KEY_ID ?? 'demo-key'
const key = process.env.CONTINUUM_KEY ?? randomBytes(32).toString('base64url')
const agreement = generateAgreementKeyPair()

let upstream: string | { socketPath: string }
let demo = false
if (process.env.CONTINUUM_UPSTREAM_SOCKET !== undefined)
  upstream = { socketPath: process.env.CONTINUUM_UPSTREAM_SOCKET }
else if (process.env.CONTINUUM_UPSTREAM !== undefined) upstream = process.env.CONTINUUM_UPSTREAM
else {
  upstream = (await startDemoUpstream()).url
  demo = true
}

const app = express()
const proxy = continuum({
  upstream,
  keys: { keys: [{ id: keyId, key }], agreementKeys: [{ id: 'agree-1', privateKey: agreement.privateKey }] },
})
app.use(proxy)

const server = app.listen(port, '127.0.0.1', () => {
  const published = proxy.proxy.options.keyring?.published()
  console.log(`continuum-proxy example gateway on http://127.0.0.1:${port}`)
  console.log(
    demo
      ? '  upstream: DEMO echo server (not a model; set CONTINUUM_UPSTREAM for a real one)'
      : `  upstream: ${JSON.stringify(upstream)}`,
  )
  console.log('\nCall it with the example client (another terminal), pre-shared key:')
  console.log(
    `  CONTINUUM_URL=http://127.0.0.1:${port}/v1 CONTINUUM_KEY_ID=${keyId} CONTINUUM_KEY=${key} ./dev client "Hello there"`,
  )
  console.log('or with key agreement, pinning the server key:')
  console.log(
    `  CONTINUUM_URL=http://127.0.0.1:${port}/v1 CONTINUUM_FINGERPRINT=${published?.fingerprint} ./dev client "Hello there"`,
  )
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close()
    void proxy.proxy.close().then(() => process.exit(0))
  })
}
