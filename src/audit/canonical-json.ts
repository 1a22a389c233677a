/**
 * Canonical JSON (RFC 8785, JCS) for audit records: object keys sorted by UTF-16 code units, no
 * whitespace, numbers and strings serialised as ECMAScript's JSON.stringify does. The record hash
 * and signature cover these bytes, so a verifier in any language that implements JCS reproduces
 * them exactly. Values outside JSON (undefined inside arrays, NaN, functions, lone surrogates) are
 * refused rather than silently changed, because a silent change would break verification later.
 */

/** A value that canonicalises: the JSON data model with finite numbers only. */
export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined }

// In unicode mode a surrogate pair is one code point, so \p{Cs} matches only unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u

/** Serialises a JSON value canonically; `undefined` object members are omitted. Throws TypeError on non-JSON values. */
export function canonicalJson(value: unknown): string {
  const parts: string[] = []
  write(value, parts, '$')
  return parts.join('')
}

function write(value: unknown, parts: string[], path: string): void {
  if (value === null) {
    parts.push('null')
    return
  }
  switch (typeof value) {
    case 'boolean':
      parts.push(value ? 'true' : 'false')
      return
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path} is not a finite number`)
      // ECMAScript Number::toString is exactly the JCS number form; -0 becomes 0 as JCS requires.
      parts.push(JSON.stringify(value))
      return
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new TypeError(`${path} holds a lone UTF-16 surrogate`)
      parts.push(JSON.stringify(value))
      return
    case 'object':
      if (Array.isArray(value)) {
        parts.push('[')
        value.forEach((item, index) => {
          if (index > 0) parts.push(',')
          if (item === undefined) throw new TypeError(`${path}[${index}] is undefined`)
          write(item, parts, `${path}[${index}]`)
        })
        parts.push(']')
        return
      }
      writeObject(value as Record<string, unknown>, parts, path)
      return
    default:
      throw new TypeError(`${path} is a ${typeof value}, not a JSON value`)
  }
}

function writeObject(value: Record<string, unknown>, parts: string[], path: string): void {
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null)
    throw new TypeError(`${path} is not a plain object`)
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort()
  parts.push('{')
  keys.forEach((key, index) => {
    if (index > 0) parts.push(',')
    if (LONE_SURROGATE.test(key)) throw new TypeError(`${path} has a key with a lone UTF-16 surrogate`)
    parts.push(JSON.stringify(key), ':')
    write(value[key], parts, `${path}.${key}`)
  })
  parts.push('}')
}
