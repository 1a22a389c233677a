/**
 * Bounds on JSON nesting, checked before anything recurses. `JSON.parse` itself copes with a
 * million levels, but everything after it (the field walker, the seal's canonical form, the
 * schema validator) recurses, and a 6 KB body of brackets used to end in a RangeError and a 500.
 * The byte scan is linear and allocation-free: it counts brackets outside strings, jumping over
 * each string with a native search for its closing quote. (Every structural character of JSON is
 * ASCII, and no byte of a multi-byte UTF-8 sequence is, so scanning bytes is exact.)
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d

/** Where the string opened at `start` (a quote) closes, or -1 when it does not. */
function closingQuote(bytes: Buffer, start: number): number {
  let end = bytes.indexOf(QUOTE, start + 1)
  while (end !== -1) {
    let backslashes = 0
    for (let at = end - 1; bytes[at] === BACKSLASH; at--) backslashes++
    if (backslashes % 2 === 0) return end
    end = bytes.indexOf(QUOTE, end + 1)
  }
  return -1
}

/**
 * Whether JSON text nests arrays and objects deeper than `maxDepth` (`{}` is depth 1). Malformed
 * text is not this function's business: it answers for what it saw, and the parser refuses the rest.
 */
export function jsonTextTooDeep(bytes: Buffer, maxDepth: number): boolean {
  let depth = 0
  const length = bytes.length
  for (let at = 0; at < length; at++) {
    const byte = bytes[at]
    if (byte === QUOTE) {
      at = closingQuote(bytes, at)
      if (at === -1) return false
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      if (++depth > maxDepth) return true
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--
    }
  }
  return false
}

/** Whether a parsed value nests deeper than `maxDepth`, without recursing (a cycle counts as too deep). */
export function jsonValueTooDeep(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  const values: object[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const current = values.pop()!
    const depth = depths.pop()!
    if (depth > maxDepth) return true
    const children = Array.isArray(current) ? current : Object.values(current)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        values.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
