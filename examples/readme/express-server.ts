import { continuum } from 'continuum-proxy/express'
import express from 'express'

const app = express()
app.use(
  continuum({
    // The inference server's base URL, without /v1 (or { socketPath: '/run/vllm.sock' }).
    upstream: process.env.CONTINUUM_UPSTREAM ?? 'http://127.0.0.1:8000',
    keys: { keys: [{ id: process.env.CONTINUUM_KEY_ID ?? 'k1', key: process.env.CONTINUUM_KEY! }] },
  }),
)
// The app's own routes stay the app's: only the OpenAI and Anthropic routes are the proxy's.
app.get('/health', (_request, response) => {
  response.json({ ok: true })
})
app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
