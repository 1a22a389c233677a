import { continuum } from 'continuum-proxy/fastify'
import Fastify from 'fastify'

const fastify = Fastify()
await fastify.register(continuum, {
  upstream: process.env.CONTINUUM_UPSTREAM ?? 'http://127.0.0.1:8000',
  keys: { keys: [{ id: process.env.CONTINUUM_KEY_ID ?? 'k1', key: process.env.CONTINUUM_KEY! }] },
  prefix: '/llm', // clients use http://127.0.0.1:8080/llm/v1
})
await fastify.listen({ port: Number(process.env.PORT ?? 8080), host: '127.0.0.1' })
