/**
 * One shared ajv instance compiles every adapter schema. Compilation is lazy (first request per
 * route) so a client that only encrypts never pays for it; `allErrors` stays off so validation
 * stops at the first failure, and error messages never include the offending data. No built-in
 * schema uses the `format` keyword, so ajv-formats is loaded only when a schema that does (an
 * adapter of yours) is first compiled; a plain setup never loads it. node:module is reached through
 * `process.getBuiltinModule`, not imported: the client bundle for browsers includes this file (the
 * client never validates, so it never gets there) and must not import a Node builtin.
 */
import { Ajv, type ValidateFunction } from 'ajv'

let shared: Ajv | undefined
let formatsAdded = false

function ajv(): Ajv {
  shared ??= new Ajv({ allErrors: false, strict: false, messages: true })
  return shared
}

/**
 * Whether a schema uses the `format` keyword anywhere. A property named `format` has a schema
 * (an object or a boolean) as its value, the keyword a string, so the two are told apart.
 */
export function usesFormatKeyword(schema: unknown, depth = 0): boolean {
  if (depth > 64 || typeof schema !== 'object' || schema === null) return false
  if (Array.isArray(schema)) return schema.some((item) => usesFormatKeyword(item, depth + 1))
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'format' && typeof value === 'string') return true
    if (usesFormatKeyword(value, depth + 1)) return true
  }
  return false
}

function addFormats(instance: Ajv): void {
  // ajv-formats is CommonJS, so require() loads it synchronously from either build.
  const { createRequire } = process.getBuiltinModule('node:module')
  const module = createRequire(import.meta.url)('ajv-formats') as
    | ((instance: Ajv) => void)
    | { default: (instance: Ajv) => void }
  ;(typeof module === 'function' ? module : module.default)(instance)
}

/** Compiles a JSON Schema into a validator. */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const instance = ajv()
  if (!formatsAdded && usesFormatKeyword(schema)) {
    addFormats(instance)
    formatsAdded = true
  }
  return instance.compile(schema)
}
