/**
 * Finds text hidden in encodings and decodes it, so "aWdub3JlIGFsbCBwcmV2aW91cyBpbnN0cnVjdGlvbnM="
 * is scanned as "ignore all previous instructions". Covers base64 (standard and URL-safe), hex
 * runs, percent-encoding and ROT13. Only decodings that come out as mostly printable UTF-8 text
 * count, so API keys and hashes are not mistaken for payloads. All searches use bounded
 * repetitions and caps on the number of payloads, so a hostile input stays linear-time.
 */

import { isUtf8 } from 'node:buffer'
import { isAscii } from './normalize'

/** An encoding the scanner can see through. */
export type PayloadEncoding = 'base64' | 'hex' | 'url' | 'rot13'

/** A decoded view of (part of) a text. */
export interface DecodedPayload {
  readonly encoding: PayloadEncoding
  readonly text: string
}

// Lookbehinds start attempts only at token starts, so ordinary words cost one step each.
const BASE64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,8192}={0,2}/g
const HEX_RUN = /(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){8,4096}/g
const PERCENT_RUN = /(?:%[0-9a-fA-F]{2}){1,4096}/g
const PERCENT_PRESENT = /%[0-9a-fA-F]{2}/

/** Runs shorter than this cannot hold a base64 or hex payload (the patterns' minimum length). */
const MIN_RUN = 16
const BASE64_UNIT = 1
const HEX_UNIT = 2
/** Per ASCII code: bit 1 in the base64 alphabet (standard and URL-safe), bit 2 a hex digit. */
const UNIT_CLASS = new Uint8Array(128).map((_, code) => {
  const char = String.fromCharCode(code)
  return (/[A-Za-z0-9+/_-]/.test(char) ? BASE64_UNIT : 0) | (/[0-9a-fA-F]/.test(char) ? HEX_UNIT : 0)
})

/**
 * Which payload searches can find anything in `text`: {@link BASE64_UNIT} when it has a
 * base64-alphabet run of at least {@link MIN_RUN} units, {@link HEX_UNIT} for a hex run, found in
 * one pass over the code units. Without such a run the payload patterns cannot match, so
 * ordinary prose skips them (and their lookbehinds) entirely.
 */
function candidateRuns(text: string): number {
  let base64Run = 0
  let hexRun = 0
  let found = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    const unitClass = code < 128 ? UNIT_CLASS[code]! : 0
    // Branch-free: a run grows by one, or resets to zero when the unit is outside its alphabet.
    base64Run = (base64Run + 1) & -(unitClass & BASE64_UNIT)
    hexRun = (hexRun + 1) & -((unitClass & HEX_UNIT) >> 1)
    if (base64Run >= MIN_RUN) found |= BASE64_UNIT
    if (hexRun >= MIN_RUN) found |= HEX_UNIT
    if (found === (BASE64_UNIT | HEX_UNIT)) break
  }
  return found
}

/** At most this many payloads per encoding and text: enough for real use, bounded for attacks. */
const MAX_PAYLOADS = 32
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes bytes as UTF-8 text when at least 90% of it is printable; otherwise undefined. */
function asPrintableText(bytes: Uint8Array): string | undefined {
  // Most runs are ordinary long words whose "decoding" is random bytes, almost never valid UTF-8.
  // Validating first spares the fatal decoder's exception, which cost far more than the scan
  // (isUtf8 and the fatal decoder accept exactly the same byte sequences: both are WHATWG UTF-8).
  if (bytes.length < 6 || !isUtf8(bytes)) return undefined
  const text = utf8.decode(bytes)
  let printable = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code >= 0x20 || code === 0x0a || code === 0x0d || code === 0x09) printable++
  }
  // Letters must dominate too: random bytes that happen to be valid UTF-8 are mostly symbols.
  const letters = text.match(/\p{L}/gu)?.length ?? 0
  return printable / text.length >= 0.9 && letters / text.length >= 0.5 ? text : undefined
}

function collect(text: string, pattern: RegExp, decode: (run: string) => Uint8Array): string[] {
  const found: string[] = []
  pattern.lastIndex = 0
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const decoded = asPrintableText(decode(match[0]))
    if (decoded !== undefined) found.push(decoded)
    if (found.length === MAX_PAYLOADS) break
  }
  pattern.lastIndex = 0
  return found
}

/** ROT13 of every code unit: letters rotate, everything else maps to itself. */
const ROT13_TABLE = new Uint16Array(65536).map((_, code) => {
  if (code >= 65 && code <= 90) return ((code - 65 + 13) % 26) + 65
  if (code >= 97 && code <= 122) return ((code - 97 + 13) % 26) + 97
  return code
})

/** ROT13 of ASCII letters; everything else unchanged. */
export function rot13(text: string): string {
  if (isAscii(text)) {
    // One byte per character: rotate a Latin-1 buffer, cheaper than a UTF-16 decode.
    const bytes = Buffer.from(text, 'latin1')
    for (let index = 0; index < bytes.length; index++) bytes[index] = ROT13_TABLE[bytes[index]!]!
    return bytes.toString('latin1')
  }
  const units = new Uint16Array(text.length)
  for (let index = 0; index < text.length; index++) units[index] = ROT13_TABLE[text.charCodeAt(index)]!
  return new TextDecoder('utf-16le').decode(units)
}

/** Every decodable payload inside `text` (not including the ROT13 view; see {@link rot13}). */
export function decodePayloads(text: string): DecodedPayload[] {
  const payloads: DecodedPayload[] = []
  const candidates = candidateRuns(text)
  if (candidates & BASE64_UNIT) {
    for (const decoded of collect(text, BASE64_RUN, (run) =>
      Buffer.from(run, run.includes('-') || run.includes('_') ? 'base64url' : 'base64'),
    )) {
      payloads.push({ encoding: 'base64', text: decoded })
    }
  }
  if (candidates & HEX_UNIT) {
    for (const decoded of collect(text, HEX_RUN, (run) => Buffer.from(run, 'hex'))) {
      payloads.push({ encoding: 'hex', text: decoded })
    }
  }
  if (text.includes('%') && PERCENT_PRESENT.test(text)) {
    // Decode each percent run in place so the words around it stay in the view.
    let replaced = 0
    const view = text.replace(PERCENT_RUN, (run) => {
      if (replaced >= MAX_PAYLOADS) return run
      replaced++
      return Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8')
    })
    if (replaced > 0) payloads.push({ encoding: 'url', text: view.replace(/\+/g, ' ') })
  }
  return payloads
}
