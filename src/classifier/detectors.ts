/**
 * The detectors of sensitive data: each finds spans of one type in a string. Every pattern is
 * anchored by a lookbehind (so attempts start only at token starts) and uses bounded repetition
 * only, so a detector is linear in its input; the checksums in validators.ts then reject
 * look-alikes. Detectors report offsets and types, never the matched value.
 */
import { isCardNumber, isIban, isValidNinoPrefix, isValidSsn, shannonEntropy } from './validators'

/** Kinds of sensitive data the classifier recognises. */
export type FindingType =
  | 'PRIVATE_KEY'
  | 'OPENAI_KEY'
  | 'ANTHROPIC_KEY'
  | 'AWS_ACCESS_KEY'
  | 'GITHUB_TOKEN'
  | 'SLACK_TOKEN'
  | 'GOOGLE_API_KEY'
  | 'CREDIT_CARD'
  | 'IBAN'
  | 'US_SSN'
  | 'UK_NINO'
  | 'EMAIL'
  | 'PHONE'
  | 'HIGH_ENTROPY_SECRET'

/** A half-open span `[start, end)` of one string. */
export interface Span {
  readonly start: number
  readonly end: number
}

/** One detector: a type and a function finding its spans in a string. */
export interface Detector {
  readonly type: FindingType
  find(text: string): Span[]
}

/** At most this many findings per detector and string, so hostile input cannot balloon results. */
const MAX_FINDINGS = 1000

/** A detector from a global regular expression and an optional validator of each match. */
function regexDetector(
  type: FindingType,
  pattern: RegExp,
  accept: (match: RegExpExecArray) => boolean = () => true,
): Detector {
  return {
    type,
    find(text) {
      const spans: Span[] = []
      const regex = new RegExp(pattern.source, pattern.flags)
      for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
        if (accept(match)) spans.push({ start: match.index, end: match.index + match[0].length })
        if (spans.length === MAX_FINDINGS) break
      }
      return spans
    },
  }
}

/** PEM private keys: from the BEGIN line to its END line (or the BEGIN line alone if cut off). */
const privateKeyDetector: Detector = {
  type: 'PRIVATE_KEY',
  find(text) {
    const spans: Span[] = []
    const begin = /-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g
    // The first END marker after a BEGIN line is also the first after any later BEGIN line that
    // starts before it, and none follows a later line if none followed an earlier one: searched
    // again from each of thousands of unterminated BEGIN lines, it read the rest of the text each
    // time (quadratic). -2: not searched yet.
    let endMarker = -2
    let endLine = -1
    for (let match = begin.exec(text); match !== null; match = begin.exec(text)) {
      const after = match.index + match[0].length
      if (endMarker !== -1 && endMarker < after) {
        endMarker = text.indexOf('-----END ', after)
        endLine = endMarker < 0 ? -1 : text.indexOf('-----', endMarker + 9)
      }
      const end = endLine < 0 ? after : endLine + 5
      spans.push({ start: match.index, end })
      begin.lastIndex = end
      if (spans.length === MAX_FINDINGS) break
    }
    return spans
  },
}

const digitsOf = (value: string): string => value.replace(/\D/g, '')

/** Every detector, most specific first: overlapping findings keep the earlier detector's type. */
export const DETECTORS: readonly Detector[] = [
  privateKeyDetector,
  regexDetector('ANTHROPIC_KEY', /(?<![\w-])sk-ant-[a-z]{2,8}\d{2}-[A-Za-z0-9_-]{20,200}/g),
  regexDetector(
    'OPENAI_KEY',
    /(?<![\w-])sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,200}/g,
    (match) => /\d/.test(match[0]),
  ),
  regexDetector('AWS_ACCESS_KEY', /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g),
  regexDetector(
    'GITHUB_TOKEN',
    /(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?!\w)/g,
  ),
  regexDetector(
    'SLACK_TOKEN',
    /(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,250}|https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{16,32}/g,
  ),
  regexDetector('GOOGLE_API_KEY', /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g),
  regexDetector('CREDIT_CARD', /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])/g, (match) =>
    isCardNumber(digitsOf(match[0])),
  ),
  regexDetector(
    'IBAN',
    /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])/g,
    (match) => isIban(match[0].replace(/ /g, '').toUpperCase()),
  ),
  regexDetector('US_SSN', /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g, (match) =>
    isValidSsn(match[1]!, match[3]!, match[4]!),
  ),
  regexDetector(
    'UK_NINO',
    /(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Za-ceghj-pr-tw-z][A-CEGHJ-NPR-TW-Za-ceghj-npr-tw-z]) ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])/g,
    (match) => isValidNinoPrefix(match[1]!),
  ),
  regexDetector(
    'EMAIL',
    /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])/g,
  ),
  regexDetector(
    'PHONE',
    /(?<![\w+.]|\d[ .-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?|\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}(?![\w-]|[ .-]\d)/g,
    // A phone number is not followed or preceded by another digit group (that is a card or an id).
    (match) => {
      const digits = digitsOf(match[0]).length
      return digits >= 9 && digits <= 15
    },
  ),
  regexDetector(
    'HIGH_ENTROPY_SECRET',
    /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_=-]{24,512}(?![A-Za-z0-9+/_=-])/g,
    (match) => {
      const token = match[0]
      const classes = Number(/[a-z]/.test(token)) + Number(/[A-Z]/.test(token)) + Number(/\d/.test(token))
      const digits = token.replace(/\D/g, '').length
      return classes === 3 && digits >= 2 && shannonEntropy(token) >= 4
    },
  ),
]
