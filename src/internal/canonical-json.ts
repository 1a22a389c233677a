/**
 * Canonical JSON (RFC 8785, JCS): object keys sorted by UTF-16 code units, no whitespace, numbers
 * and strings as ECMAScript's JSON.stringify writes them. Seals, field plaintexts, cache keys and
 * audit hashes are computed over these bytes, so they do not depend on how a framework or an
 * intermediary re-serialised a body, and a verifier in any language that implements JCS
 * reproduces them.
 *
 * There is one mode, strict: a value RFC 8785 cannot represent is refused with
 * CONTINUUM_NON_CANONICAL_JSON rather than written some other way, because a silent change breaks
 * verification (a lone surrogate has no UTF-8 form; `1e400` parses to Infinity, which
 * JSON.stringify would write as `null`, so `1e400`, `-1e400` and `null` would seal alike). So are
 * values outside JSON (undefined in arrays, functions, class instances).
 *
 * Two writers produce the same text. The fast one recurses and leaves strings and numbers to the
 * engine's JSON.stringify (a string is checked for a lone surrogate only when its escaped form
 * holds a `\ud` escape); past a nesting depth it hands over to the iterative one, so no nesting
 * depth makes either throw a RangeError.
 */
import { ContinuumError } from '../errors'

// In unicode mode a surrogate pair is one code point, so \p{Cs} matches only unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u

/** One container being written: its entries and where the writer is in them. */
interface Frame {
  readonly array: boolean
  readonly value: Record<string, unknown> | readonly unknown[]
  /** Sorted keys of an object; unused for arrays. */
  readonly keys: string[]
  index: number
  /** Whether a member was written yet (objects skip undefined members). */
  wrote: boolean
}

/** Nesting the recursive writer handles; deeper values go to the iterative one. */
const RECURSION_LIMIT = 400

/** Thrown inside the recursive writer when a value nests deeper than it may recurse. */
const TOO_DEEP: unique symbol = Symbol('too deep')

/**
 * Serialises a JSON value canonically; `undefined` object members are omitted. Throws
 * CONTINUUM_NON_CANONICAL_JSON saying what is wrong, never where: member names may be content.
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value, 0)
  } catch (error) {
    if (error !== TOO_DEEP) throw error
    return canonicalJsonIterative(value)
  }
}

/** A string's JSON form, refused when it holds a lone surrogate (JSON.stringify writes it as `\udXXX`). */
function writeString(text: string): string {
  const json = JSON.stringify(text)
  if (json.includes('\\ud') && LONE_SURROGATE.test(text))
    throw refuse('holds a string with a lone UTF-16 surrogate')
  return json
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return writeString(value)
    case 'number':
      if (!Number.isFinite(value)) throw refuse('holds a number outside the IEEE-754 double range')
      // ECMAScript Number::toString is exactly the JCS number form; -0 becomes 0 as JCS requires.
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      break
    default:
      throw refuse(`holds a ${typeof value}, not a JSON value`)
  }
  if (value === null) return 'null'
  if (depth === RECURSION_LIMIT) throw TOO_DEEP
  if (Array.isArray(value)) {
    let text = '['
    for (let index = 0; index < value.length; index++) {
      const item = value[index]
      if (item === undefined) throw refuse('is undefined in an array')
      text += index === 0 ? write(item, depth + 1) : `,${write(item, depth + 1)}`
    }
    return `${text}]`
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) throw refuse('is not a plain object')
  const object = value as Record<string, unknown>
  const keys = sortedKeys(object)
  let text = '{'
  let wrote = false
  for (const key of keys) {
    const item = object[key]
    if (item === undefined) continue
    text += `${wrote ? ',' : ''}${memberName(key)}:${write(item, depth + 1)}`
    wrote = true
  }
  return `${text}}`
}

/** A member name's JSON form, refused when it holds a lone UTF-16 surrogate. */
export function memberName(key: string): string {
  const name = JSON.stringify(key)
  if (name.includes('\\ud') && LONE_SURROGATE.test(key))
    throw refuse('has a member name with a lone UTF-16 surrogate')
  return name
}

/** Objects with at most this many members are sorted in place by insertion (see {@link sortedKeys}). */
const INSERTION_SORT_LIMIT = 16

/**
 * The member names of an object in RFC 8785 order (UTF-16 code units, which is how `<` compares
 * strings and how the default sort orders them). A message's objects are small, and
 * Array.prototype.sort copies every array into a work area first: an insertion sort in place
 * gives the same order with no allocation beyond Object.keys.
 */
export function sortedKeys(object: Record<string, unknown>): string[] {
  const keys = Object.keys(object)
  if (keys.length > INSERTION_SORT_LIMIT) return keys.sort()
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index]!
    let at = index - 1
    while (at >= 0 && keys[at]! > key) {
      keys[at + 1] = keys[at]!
      at--
    }
    keys[at + 1] = key
  }
  return keys
}

/** The iterative writer: the same text, for values nested deeper than the recursive one goes. */
function canonicalJsonIterative(value: unknown): string {
  const parts: string[] = []
  const stack: Frame[] = []
  let next: unknown = value
  let pending = true
  while (true) {
    if (pending) {
      pending = false
      const scalar = writeScalar(next)
      if (scalar !== undefined) parts.push(scalar)
      else if (Array.isArray(next)) {
        parts.push('[')
        stack.push({ array: true, value: next, keys: [], index: 0, wrote: false })
      } else {
        const object = next as Record<string, unknown>
        const prototype = Object.getPrototypeOf(object)
        if (prototype !== Object.prototype && prototype !== null) throw refuse('is not a plain object')
        parts.push('{')
        stack.push({ array: false, value: object, keys: sortedKeys(object), index: 0, wrote: false })
      }
    }
    const frame = stack.at(-1)
    if (frame === undefined) break
    if (frame.array) {
      const array = frame.value as readonly unknown[]
      if (frame.index === array.length) {
        parts.push(']')
        stack.pop()
        continue
      }
      if (frame.index > 0) parts.push(',')
      next = array[frame.index++]
      if (next === undefined) throw refuse('is undefined in an array')
      pending = true
      continue
    }
    const object = frame.value as Record<string, unknown>
    let key: string | undefined
    while (frame.index < frame.keys.length) {
      const candidate = frame.keys[frame.index++]!
      if (object[candidate] !== undefined) {
        key = candidate
        break
      }
    }
    if (key === undefined) {
      parts.push('}')
      stack.pop()
      continue
    }
    if (LONE_SURROGATE.test(key)) throw refuse('has a member name with a lone UTF-16 surrogate')
    parts.push(`${frame.wrote ? ',' : ''}${JSON.stringify(key)}:`)
    frame.wrote = true
    next = object[key]
    pending = true
  }
  return parts.join('')
}

/** The same strict serialiser, under the name the audit log has always used. */
export function strictCanonicalJson(value: unknown): string {
  return canonicalJson(value)
}

/** Writes a scalar; returns undefined for an array or object, which the caller opens. */
function writeScalar(value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw refuse('holds a number outside the IEEE-754 double range')
      // ECMAScript Number::toString is exactly the JCS number form; -0 becomes 0 as JCS requires.
      return JSON.stringify(value)
    case 'string':
      if (LONE_SURROGATE.test(value)) throw refuse('holds a string with a lone UTF-16 surrogate')
      return JSON.stringify(value)
    case 'object':
      return undefined
    default:
      throw refuse(`holds a ${typeof value}, not a JSON value`)
  }
}

function refuse(problem: string): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_NON_CANONICAL_JSON',
    `A JSON value ${problem}; RFC 8785 cannot represent it`,
  )
}

/**
 * Whether `text`, decoded from UTF-8 and parsed by JSON.parse to `value`, is already the RFC 8785
 * form of a string, without writing it again (the common case: a decrypted message's text). With
 * no backslash in it and exactly two characters more than its value, the text is `"`, the
 * characters themselves and `"`: JSON.parse accepted them, so none is a quote or a control
 * character, which RFC 8785 escapes, and text decoded from UTF-8 holds no lone surrogate (an
 * invalid sequence decodes to U+FFFD); so canonicalJson would write exactly these characters.
 * Text with an escape takes the full check.
 */
export function isCanonicalStringText(text: string, value: unknown): boolean {
  return typeof value === 'string' && text.length === value.length + 2 && !text.includes('\\')
}
