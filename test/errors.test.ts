import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ContinuumError, ERROR_CODES, isErrorCode, toContinuumError } from '../src/errors'
import { ERROR_DESCRIPTIONS } from '../src/errors/code-descriptions'
import { renderErrorsDoc } from './support/errors-doc'

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of the table', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
    expect(doc).toBe(renderErrorsDoc())
  })

  it('describes exactly the codes of the table, each in one line', () => {
    expect(Object.keys(ERROR_DESCRIPTIONS)).toEqual(Object.keys(ERROR_CODES))
    for (const description of Object.values(ERROR_DESCRIPTIONS)) expect(description).toMatch(/^[^\n|]+\.$/)
  })

  it('every code is CONTINUUM_* with a sane status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^CONTINUUM_[A-Z0-9_]+$/)
      expect(info.status).toBeGreaterThanOrEqual(400)
      expect(info.status).toBeLessThan(600)
    }
  })

  it('renders a JSON body and recognises copies by marker', () => {
    const error = new ContinuumError('CONTINUUM_BODY_TOO_LARGE', 'Body over 10 bytes', {
      details: { limit: 10 },
    })
    expect(error.status).toBe(413)
    expect(error.toJSON()).toEqual({
      error: {
        code: 'CONTINUUM_BODY_TOO_LARGE',
        message: 'Body over 10 bytes',
        type: 'invalid_request_error',
        limit: 10,
      },
    })
    expect(ContinuumError.isInstance(new Error('x'))).toBe(false)
    expect(ContinuumError.isInstance(error)).toBe(true)
    expect(isErrorCode('CONTINUUM_BODY_TOO_LARGE')).toBe(true)
    expect(isErrorCode('NOPE')).toBe(false)
  })

  it('is instanceof ContinuumError from any copy of the package, and a subclass still checks its prototype', () => {
    // Another copy (the CommonJS build, the client's own bundle, a second version) has its own
    // class; what it shares is the Symbol.for marker its instances carry.
    const fromAnotherCopy = Object.assign(new Error('x'), { [Symbol.for('continuum-proxy.error')]: true })
    expect(fromAnotherCopy instanceof ContinuumError).toBe(true)
    expect(new Error('x') instanceof ContinuumError).toBe(false)
    expect((null as unknown as object) instanceof ContinuumError).toBe(false)
    class QuotaError extends ContinuumError {}
    expect(new ContinuumError('CONTINUUM_INTERNAL', 'x') instanceof QuotaError).toBe(false)
    expect(new QuotaError('CONTINUUM_INTERNAL', 'x') instanceof QuotaError).toBe(true)
    expect(new QuotaError('CONTINUUM_INTERNAL', 'x') instanceof ContinuumError).toBe(true)
  })

  it('hides the message of unknown failures', () => {
    const wrapped = toContinuumError(new Error('secret prompt text'))
    expect(wrapped.code).toBe('CONTINUUM_INTERNAL')
    expect(wrapped.message).not.toContain('secret')
  })
})
