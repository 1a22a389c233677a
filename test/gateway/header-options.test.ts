/**
 * The gateway's `callerIdHeader` and `classificationHeader` name request headers whose values the
 * router request carries as metadata. A credential header there would hand a bearer token or an
 * API key to the classifier and to custom providers as a "caller id", and an `x-continuum-` header
 * is kept from the upstream by the proxy, so it would silently never be read: both are refused at
 * construction, as the audit stage refuses credential headers for its `identityHeader`.
 */
import { ContinuumError } from 'continuum-proxy'
import { continuum } from 'continuum-proxy/express'
import { InferenceRouter } from 'continuum-proxy/router'
import { afterAll, describe, expect, it } from 'vitest'
import { FakeProvider } from '../router/fake-provider'

const router = new InferenceRouter({ providers: [new FakeProvider('local')] })
afterAll(async () => {
  await router.close()
})

function refusal(gateway: Record<string, unknown>): ContinuumError | undefined {
  try {
    continuum({ router, gateway })
  } catch (error) {
    if (ContinuumError.isInstance(error)) return error
    throw error
  }
  return undefined
}

describe('gateway header options', () => {
  for (const option of ['callerIdHeader', 'classificationHeader']) {
    for (const header of ['authorization', 'Cookie', 'x-api-key', 'api-key', 'proxy-authorization']) {
      it(`${option}: '${header}' is refused as a credential header`, () => {
        const error = refusal({ [option]: header })
        expect(error?.code).toBe('CONTINUUM_INVALID_OPTIONS')
        expect(error?.message).toContain(`${option} "${header.toLowerCase()}" carries credentials`)
      })
    }
    it(`${option}: an x-continuum- header is refused, since it never reaches the gateway`, () => {
      const error = refusal({ [option]: 'x-continuum-caller' })
      expect(error?.code).toBe('CONTINUUM_INVALID_OPTIONS')
      expect(error?.message).toContain('x-continuum- headers never reach the gateway')
    })
    it(`${option}: an ordinary header and false are accepted`, () => {
      expect(refusal({ [option]: 'x-tenant' })).toBeUndefined()
      expect(refusal({ [option]: false })).toBeUndefined()
    })
  }
})
