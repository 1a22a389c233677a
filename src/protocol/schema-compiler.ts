/**
 * One shared ajv instance compiles every adapter schema. Compilation is lazy (first request per
 * route) so a client that only encrypts never pays for it; `allErrors` stays off so validation
 * stops at the first failure, and error messages never include the offending data.
 */
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'

let shared: Ajv | undefined

function ajv(): Ajv {
  if (shared === undefined) {
    shared = new Ajv({ allErrors: false, strict: false, messages: true })
    ;(addFormats as unknown as (instance: Ajv) => void)(shared)
  }
  return shared
}

/** Compiles a JSON Schema into a validator. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  return ajv().compile(schema)
}
