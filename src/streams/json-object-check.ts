/**
 * Whether a text is one JSON object (RFC 8259, as `JSON.parse` reads it) nested no deeper than a
 * bound, answered by one scan that builds nothing. A relay that forwards an event's text as it
 * arrived (a batch frame, a plain stream) must still refuse an event that is not a JSON object,
 * but it needs the object itself only when someone reads it (telemetry facts, a protocol's
 * final-event test, a stage, a seal per event). Parsing 250 bytes into an object costs several
 * times this scan, so the decoders check with it and parse only on demand.
 *
 * The answer is exact in one direction: `true` means `JSON.parse` returns an object (a plain
 * `{...}`) whose nesting is at most the bound. `false` says only that the caller must find out
 * why, which it does on the slow path with the parser itself, so its errors stay what they were.
 */

const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const PLUS = 0x2b
const COMMA = 0x2c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const COLON = 0x3a
const OPEN_ARRAY = 0x5b
const BACKSLASH = 0x5c
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const LOWER_E = 0x65
const UPPER_E = 0x45
const LOWER_U = 0x75

/** Which escapes may follow a backslash: `"`, `\`, `/`, `b`, `f`, `n`, `r`, `t` (`u` is checked apart). */
const SIMPLE_ESCAPE = new Uint8Array(128)
for (const character of '"\\/bfnrt') SIMPLE_ESCAPE[character.charCodeAt(0)] = 1
const HEX = new Uint8Array(128)
for (const character of '0123456789abcdefABCDEF') HEX[character.charCodeAt(0)] = 1

/** Kinds of open containers, one a depth: whether a `}` or a `]` closes it. */
const IN_OBJECT = 1
const IN_ARRAY = 2
/** The open containers, reused by every call (the scan is synchronous and never re-entered). */
let containers = new Uint8Array(258)

function skipSpace(text: string, at: number): number {
  for (;;) {
    const code = text.charCodeAt(at)
    if (code !== SPACE && code !== LF && code !== CR && code !== TAB) return at
    at++
  }
}

/** The index after the string that opens at `at` (a quote), or -1 when it is not a JSON string. */
function skipString(text: string, at: number): number {
  const length = text.length
  for (at++; at < length; at++) {
    const code = text.charCodeAt(at)
    if (code === QUOTE) return at + 1
    if (code < SPACE) return -1
    if (code === BACKSLASH) {
      const escaped = text.charCodeAt(++at)
      if (escaped === LOWER_U) {
        for (let digit = 1; digit <= 4; digit++) {
          const hex = text.charCodeAt(at + digit)
          if (!(hex < 128 && HEX[hex] === 1)) return -1
        }
        at += 4
      } else if (!(escaped < 128 && SIMPLE_ESCAPE[escaped] === 1)) return -1
    }
  }
  return -1
}

function skipDigits(text: string, at: number): number {
  for (;;) {
    // Past the end, charCodeAt is NaN: written so that NaN stops the loop.
    const code = text.charCodeAt(at)
    if (!(code >= ZERO && code <= NINE)) return at
    at++
  }
}

/** The index after the number that starts at `at`, or -1 when it is not a JSON number. */
function skipNumber(text: string, at: number): number {
  if (text.charCodeAt(at) === MINUS) at++
  const first = text.charCodeAt(at)
  if (first === ZERO) at++
  else if (first > ZERO && first <= NINE) at = skipDigits(text, at + 1)
  else return -1
  if (text.charCodeAt(at) === DOT) {
    const start = at + 1
    at = skipDigits(text, start)
    if (at === start) return -1
  }
  const exponent = text.charCodeAt(at)
  if (exponent === LOWER_E || exponent === UPPER_E) {
    at++
    const sign = text.charCodeAt(at)
    if (sign === PLUS || sign === MINUS) at++
    const start = at
    at = skipDigits(text, start)
    if (at === start) return -1
  }
  return at
}

/** The index after a scalar (string, number, literal) at `at`, or -1. */
function skipScalar(text: string, at: number): number {
  const code = text.charCodeAt(at)
  if (code === QUOTE) return skipString(text, at)
  if (code === MINUS || (code >= ZERO && code <= NINE)) return skipNumber(text, at)
  if (text.startsWith('true', at) || text.startsWith('null', at)) return at + 4
  if (text.startsWith('false', at)) return at + 5
  return -1
}

/** After `{` or `,` in an object: the member name and its colon; the index of the value, or -1. */
function skipName(text: string, at: number): number {
  at = skipSpace(text, at)
  if (text.charCodeAt(at) !== QUOTE) return -1
  at = skipString(text, at)
  if (at === -1) return -1
  at = skipSpace(text, at)
  return text.charCodeAt(at) === COLON ? at + 1 : -1
}

/**
 * Whether `text` is exactly one JSON object, with whitespace around it allowed, whose arrays and
 * objects nest at most `maxDepth` deep (`{}` is depth 1). See the module comment for what
 * `false` means.
 */
export function isJsonObjectText(text: string, maxDepth: number): boolean {
  if (maxDepth < 1) return false
  if (containers.length < maxDepth + 2) containers = new Uint8Array(maxDepth + 2)
  const open = containers
  const length = text.length
  let at = skipSpace(text, 0)
  if (text.charCodeAt(at) !== OPEN_OBJECT) return false
  let depth = 0
  // Each turn reads one value at `at`, then what follows it up to the next value.
  for (;;) {
    at = skipSpace(text, at)
    const code = text.charCodeAt(at)
    if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > maxDepth) return false
      open[depth] = code === OPEN_OBJECT ? IN_OBJECT : IN_ARRAY
      at = skipSpace(text, at + 1)
      const close = text.charCodeAt(at)
      if (close === (code === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        depth--
        at++
      } else {
        if (code === OPEN_OBJECT) {
          at = skipName(text, at)
          if (at === -1) return false
        }
        continue
      }
    } else {
      at = skipScalar(text, at)
      if (at === -1) return false
    }
    // After a value: close containers, or a comma before the next value.
    for (;;) {
      at = skipSpace(text, at)
      if (depth === 0) return at === length
      const next = text.charCodeAt(at)
      if (next === COMMA) {
        if (open[depth] === IN_OBJECT) {
          at = skipName(text, at + 1)
          if (at === -1) return false
        } else at++
        break
      }
      if (next !== (open[depth] === IN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) return false
      depth--
      at++
    }
  }
}
