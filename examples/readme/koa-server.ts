import { continuum } from 'continuum-proxy/koa'
import Koa from 'koa'

const app = new Koa()
app.use(
  continuum({
    upstream: process.env.CONTINUUM_UPSTREAM ?? 'http://127.0.0.1:8000',
    keys: { keys: [{ id: process.env.CONTINUUM_KEY_ID ?? 'k1', key: process.env.CONTINUUM_KEY! }] },
  }),
)
app.listen(Number(process.env.PORT ?? 8080), '127.0.0.1')
