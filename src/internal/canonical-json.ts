/**
 * Canonical JSON (RFC 8785, JCS): object keys sorted by UTF-16 code units, no whitespace, numbers
 * and strings as ECMAScript's JSON.stringify writes them. Seals and audit hashes are computed over
 * these bytes, so they do not depend on how a framework or an intermediary re-serialised a body,
 * and a verifier in any language that implements JCS reproduces them.
 *
 * Two modes share one writer. `canonicalJson` is for data that came out of JSON.parse (message
 * bodies): it never throws. `strictCanonicalJson` is for records the library signs: values outside
 * JSON (undefined in arrays, NaN, functions, class instances, lone surrogates) are refused rather
 * than silently changed, because a silent change would break verification later.
 */

// In unicode mode a surrogate pair is one code point, so \p{Cs} matches only unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u

/** Serialises a JSON value canonically; `undefined` object members are omitted. */
export function canonicalJson(value: unknown): string {
  return write(value, undefined)
}

/** Like {@link canonicalJson}, but throws a TypeError naming the path of any non-JSON value. */
export function strictCanonicalJson(value: unknown): string {
  // Path segments are kept on a stack and only joined when an error names them: building a
  // path string per member would cost more than the serialisation itself.
  return write(value, [])
}

/** `path` is undefined in lenient mode, the current path in strict mode. */
function write(value: unknown, path: (string | number)[] | undefined): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (path !== undefined && !Number.isFinite(value)) throw refuse(path, 'is not a finite number')
      // ECMAScript Number::toString is exactly the JCS number form; -0 becomes 0 as JCS requires.
      return JSON.stringify(value)
    case 'string':
      if (path !== undefined && LONE_SURROGATE.test(value))
        throw refuse(path, 'holds a lone UTF-16 surrogate')
      return JSON.stringify(value)
    case 'object':
      return Array.isArray(value)
        ? writeArray(value, path)
        : writeObject(value as Record<string, unknown>, path)
    default:
      if (path !== undefined) throw refuse(path, `is a ${typeof value}, not a JSON value`)
      return 'null'
  }
}

function writeArray(value: readonly unknown[], path: (string | number)[] | undefined): string {
  let text = '['
  for (let index = 0; index < value.length; index++) {
    if (index > 0) text += ','
    const item = value[index]
    if (path === undefined) {
      text += item === undefined ? 'null' : write(item, undefined)
      continue
    }
    path.push(index)
    if (item === undefined) throw refuse(path, 'is undefined')
    text += write(item, path)
    path.pop()
  }
  return `${text}]`
}

function writeObject(value: Record<string, unknown>, path: (string | number)[] | undefined): string {
  if (path !== undefined) {
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) throw refuse(path, 'is not a plain object')
  }
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(value).sort()
  let text = '{'
  let first = true
  for (const key of keys) {
    const member = value[key]
    if (member === undefined) continue
    if (path !== undefined) {
      if (LONE_SURROGATE.test(key)) throw refuse(path, 'has a key with a lone UTF-16 surrogate')
      path.push(key)
    }
    text += `${first ? '' : ','}${JSON.stringify(key)}:${write(member, path)}`
    path?.pop()
    first = false
  }
  return `${text}}`
}

function refuse(path: readonly (string | number)[], problem: string): TypeError {
  const where = path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('')
  return new TypeError(`$${where} ${problem}`)
}
