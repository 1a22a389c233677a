/**
 * The client-cost benchmark in Deno or Bun: measureClientCost on the backend the client picks in
 * that runtime (node:crypto in both). Bundled for the browser like the Chromium page; the fixture
 * and counts arrive on standard input, the samples leave as one JSON line.
 */
import { defaultBackend } from '../../src/client/web-crypto/index'
import { standardInput } from '../../test/runtimes/standard-input'
import { type ClientCostFixture, measureClientCost } from './client-cost'

const { fixture, requests, streams } = JSON.parse(await standardInput()) as {
  fixture: ClientCostFixture
  requests: number
  streams: number
}
const backend = defaultBackend()
const samples = await measureClientCost(fixture, backend, requests, streams)
console.log(JSON.stringify({ backend: backend.name, ...samples }))
