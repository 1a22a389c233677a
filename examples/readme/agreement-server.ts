import { readFileSync } from 'node:fs'
import { continuum } from 'continuum-proxy/express'
import express from 'express'

const app = express()
app.use(
  continuum({
    upstream: process.env.CONTINUUM_UPSTREAM ?? 'http://127.0.0.1:8000',
    // The file `continuum-proxy keygen agreement --out agreement.pem` wrote.
    keys: { agreementKeys: [{ id: 'a1', privateKey: readFileSync('agreement.pem', 'utf8') }] },
  }),
)
app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
