/** The browser page of the client-cost benchmark: measureClientCost on WebCrypto, called by the bench. */
import { webCryptoBackend } from '../../src/client/web-crypto/index'
import { type ClientCostFixture, measureClientCost } from './client-cost'

async function clientCost(fixtureText: string, requests: number, streams: number) {
  return measureClientCost(JSON.parse(fixtureText) as ClientCostFixture, webCryptoBackend, requests, streams)
}

Object.assign(globalThis, { clientCost, continuumReady: true })
