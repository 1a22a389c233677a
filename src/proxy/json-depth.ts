/**
 * Bounds on JSON nesting, checked before anything recurses. `JSON.parse` itself copes with a
 * million levels, but everything after it (the field walker, the seal's canonical form, the
 * schema validator) recurses, and a 6 KB body of brackets used to end in a RangeError and a 500.
 * The scan is linear: it counts brackets outside strings, jumping over each string with a native
 * search for its closing quote. (Every structural character of JSON is
 * ASCII, and no byte of a multi-byte UTF-8 sequence is, so scanning bytes is exact.)
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d

/** JSON text as bytes or as a string: the scan needs only code units and a quote search. */
interface Text {
  readonly length: number
  at(index: number): number
  quoteFrom(index: number): number
}

function bytesText(bytes: Buffer): Text {
  return {
    length: bytes.length,
    at: (index) => bytes[index]!,
    quoteFrom: (index) => bytes.indexOf(QUOTE, index),
  }
}

function stringText(text: string): Text {
  return {
    length: text.length,
    at: (index) => text.charCodeAt(index),
    quoteFrom: (index) => text.indexOf('"', index),
  }
}

/** Where the string opened at `start` (a quote) closes, or -1 when it does not. */
function closingQuote(text: Text, start: number): number {
  let end = text.quoteFrom(start + 1)
  while (end !== -1) {
    let backslashes = 0
    for (let at = end - 1; text.at(at) === BACKSLASH; at--) backslashes++
    if (backslashes % 2 === 0) return end
    end = text.quoteFrom(end + 1)
  }
  return -1
}

function tooDeep(text: Text, maxDepth: number): boolean {
  let depth = 0
  const length = text.length
  for (let at = 0; at < length; at++) {
    const code = text.at(at)
    if (code === QUOTE) {
      at = closingQuote(text, at)
      if (at === -1) return false
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > maxDepth) return true
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--
    }
  }
  return false
}

/** Whether the text opens at most `limit` arrays and objects in all, counted by native searches. */
function fewOpenings(text: Buffer | string, limit: number): boolean {
  let count = 0
  for (const bracket of ['{', '['] as const) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++count > limit) return false
    }
  }
  return true
}

/**
 * Whether JSON text (bytes or a string) nests arrays and objects deeper than `maxDepth` (`{}` is
 * depth 1). Malformed text is not this function's business: it answers for what it saw, and the
 * parser refuses the rest. Text that opens no more brackets than `maxDepth` in all (brackets in
 * strings included) cannot nest deeper, and is answered without the scan.
 */
export function jsonTextTooDeep(text: Buffer | string, maxDepth: number): boolean {
  if (fewOpenings(text, maxDepth)) return false
  return tooDeep(typeof text === 'string' ? stringText(text) : bytesText(text), maxDepth)
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
