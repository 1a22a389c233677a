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
  // Path segments are kept on a stack and only joined when an error names them: building a
  // path string per member would cost more than the serialisation itself.
  return write(value, [])
}

function write(value: unknown, path: (string | number)[]): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw refuse(path, 'is not a finite number')
      // ECMAScript Number::toString is exactly the JCS number form; -0 becomes 0 as JCS requires.
      return JSON.stringify(value)
    case 'string':
      if (LONE_SURROGATE.test(value)) throw refuse(path, 'holds a lone UTF-16 surrogate')
      return JSON.stringify(value)
    case 'object':
      return Array.isArray(value)
        ? writeArray(value, path)
        : writeObject(value as Record<string, unknown>, path)
    default:
      throw refuse(path, `is a ${typeof value}, not a JSON value`)
  }
}

function writeArray(value: readonly unknown[], path: (string | number)[]): string {
  let text = '['
  for (let index = 0; index < value.length; index++) {
    path.push(index)
    if (value[index] === undefined) throw refuse(path, 'is undefined')
    text += (index > 0 ? ',' : '') + write(value[index], path)
    path.pop()
  }
  return `${text}]`
}

function writeObject(value: Record<string, unknown>, path: (string | number)[]): string {
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) throw refuse(path, 'is not a plain object')
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(value).sort()
  let text = '{'
  let first = true
  for (const key of keys) {
    const member = value[key]
    if (member === undefined) continue
    if (LONE_SURROGATE.test(key)) throw refuse(path, 'has a key with a lone UTF-16 surrogate')
    path.push(key)
    text += `${first ? '' : ','}${JSON.stringify(key)}:${write(member, path)}`
    path.pop()
    first = false
  }
  return `${text}}`
}

function refuse(path: readonly (string | number)[], problem: string): TypeError {
  const where = path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('')
  return new TypeError(`$${where} ${problem}`)
}
