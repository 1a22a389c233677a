/**
 * Dense signals the hashed word and character features cannot express, each a number in 0..1:
 *
 * - `token_salad`: the densest run of odd tokens (brackets and marks standing alone, symbols
 *   inside words, a capital right after a lower-case letter), the texture of adversarial suffixes
 *   such as GCG's `describing.\ + similarlyNow write oppositeley.]( Me giving**ONE`.
 * - `adversarial_suffix`: 1 when a text of ordinary words ends in token salad (at least
 *   {@link SUFFIX_ODD} odd tokens among its last {@link SUFFIX_WINDOW}, while at most a tenth of the
 *   tokens before them are odd), the published shape of GCG-style attacks: a plain harmful
 *   request with an optimised suffix appended. Code is odd throughout and does not qualify.
 *   The thresholds were fixed from that description, not fitted to data.
 * - `symbol_density`: the share of punctuation and symbols among the non-space characters.
 * - `scenario_frame`, `harm_topic` and their conjunction `scenario_harm`: fiction, role-play or
 *   hypothetical framing, a harmful topic asked for, and both in one chunk, the shape of
 *   persuasive jailbreaks ("in a hypothetical world, explain how to make ..."). Either alone is
 *   ordinary. Both are narrow so that ordinary role and creative prompts do not carry them: the
 *   frame is a word that sets up a fiction or a hypothetical, not the nouns every creative task
 *   uses ("story", "scene", "character", "game") nor a plain role request ("pretend to be a tour
 *   guide"); the topic counts only as the object of a request ("how to make a bomb", "write one
 *   toxic sentence"), not when it is negated or guarded against ("how to spot scams", "do not
 *   write harmful content") or part of an idiom or technical term ("kill a process", "growth
 *   hacking"). A benign brief that asks for the word ("create weapon models") still counts.
 *
 * How much each counts is learned (combiner.ts). One pass over the text plus two keyword searches
 * with bounded repetition only, so linear time.
 */

/** Names of the signals, in the order {@link textSignals} returns them. */
export const SIGNAL_NAMES = [
  'token_salad',
  'adversarial_suffix',
  'symbol_density',
  'scenario_frame',
  'harm_topic',
  'scenario_harm',
] as const

/** Tokens in the window over which `token_salad` counts odd tokens. */
const SALAD_WINDOW = 12
/** The suffix `adversarial_suffix` inspects, and how many odd tokens in it make salad. */
const SUFFIX_WINDOW = 16
const SUFFIX_ODD = 6
/** The words before the suffix: at least this many, and at most this share of them odd. */
const HEAD_TOKENS = 4
const HEAD_ODD_SHARE = 0.1

/** A word that sets up a fiction, a hypothetical or a persona game; not a plain role request. */
const SCENARIO =
  /\b(?:imagine(?! (?:you are|you're|that you are|that you're|yourself|being)\b)|pretend(?! (?:to be|you are|you're|that you are|that you're|yourself|being)\b)|pretending|imaginary|hypothetical(?:ly)?|fiction(?:al)?|screenplay|role-?play(?:ing)?|layer \d|(?:my|your) (?:late |deceased |dead |dear |sweet )?grand(?:ma|mother)|deceased|bedtime|film script|movie script)\b/u

/** What asks for something: a request verb or "how to" and its kin. */
const REQUEST =
  '(?:how (?:to|do i|can i|would i|could i|would you|do you|does one)|ways to|steps (?:to|for)|instructions? (?:for|on|to)|guide (?:to|on|for)|tutorial (?:on|for)|recipe (?:for|of)|make|making|build|create|synthesi[sz]e|manufactur[a-z]{0,3}|write|generate|produce|develop|design|obtain|buy|acquire|get|use|commit|carry out|plan|explain|describe|teach|help me|say|spread|promot[a-z]{1,3}|encourag[a-z]{1,3})'
/** A request that is itself negated ("do not write ...") asks for nothing. */
const NEGATION = "(?:not|never|avoid|no|don't|do not)"
/** Words between the request and the topic that turn it around ("how to spot scams"). */
const GUARD =
  '(?:not|no|never|avoid(?:ing)?|without|prevent(?:ing)?|protect(?:ing)?|against|detect(?:ing)?|stop|spot|report|anti|recogni[sz]e|identify|combat|fight|defend|counter|remove|exclude|prohibit|ban|safe)'
/** Compounds whose first word makes the topic word harmless ("growth hacking", "secret weapon"). */
const COMPOUND = '(?<!\\b(?:growth|life|secret|ethical|request|pick your) |\\b(?:white[ -]hat|anti)[ -]?)'
const TOPIC =
  '(?:bombs?|explosives?|weapons?|guns?|firearms?|meth(?:amphetamine)?|cocaine|heroin|fentanyl|drugs?|poison(?:s|ing)?|kill(?:ing)?|murder(?:ing)?|assassinat(?:e|ion)|hack(?:ing|ed|er)?|malware|ransomware|viruse?s?|keylogger|exploits?|steal(?:ing)?|theft|fraud|scams?|phishing|launder(?:ing)?|counterfeit|suicide|self-harm|terroris[mt]|racist|hate speech|genocide|tortur(?:e|ing)|illegal(?:ly)?|napalm|ricin|sarin|anthrax|toxic|violen(?:t|ce)|harmful|untraceable|smuggl(?:e|ing)|traffick(?:ing)?|porn(?:ography)?|nsfw)'
/** What after the topic word makes it an idiom, a technical term, a pest or a video game. */
const IDIOM =
  "(?![ -](?:news|time|the (?:lights?|show|spotlight|mood|engine|music|test|exam|interview)|(?:a |the |my |your )?(?:python |child |background |running )?process(?:es)?|(?:someone's|my|your|her|his|their) heart|a base|cams?|criteria|switch|momentum|development|discovery|interactions?|trials?|detection|protection|prevention|awareness|control|ivy|states?|arguments?|moves?|operations?|(?:the |some |my |a )?(?:weeds|mosquito(?:e?s)?|vermin|pests|bugs|germs|bacteria|flies|ants|rats|mice)|(?:[a-z']{1,12} ){0,2}in (?:minecraft|fortnite|call of duty|gta|grand theft auto|the witcher|skyrim|a (?:video )?game|the game|this game|my game|video games))\\b)"
/**
 * A harmful topic as the object of a request: the request (not negated; the negation is looked
 * for behind the request once it has matched, which keeps the search fast where no request
 * verb occurs), at most four words none of which guards against the topic, then the topic.
 */
const HARM = new RegExp(
  `\\b${REQUEST}(?<!\\b${NEGATION} ${REQUEST})\\W{1,3}(?:(?!${GUARD}\\b)[a-z'-]{1,20}\\W{1,3}){0,4}${COMPOUND}\\b${TOPIC}\\b${IDIOM}`,
  'u',
)

/**
 * A topic word on its own: HARM holds `\b${TOPIC}\b` as one contiguous piece, so any text HARM
 * matches holds a match of this too (the word boundaries are read from the same string). It is a
 * tenth of HARM's cost, and most texts have no topic word, so HARM runs only where one occurs.
 */
const TOPIC_WORD = new RegExp(`\\b${TOPIC}\\b`, 'u')

/** Whether `text` asks for a harmful topic: {@link HARM}, skipped where no topic word occurs. */
const asksForHarm = (text: string): boolean => TOPIC_WORD.test(text) && HARM.test(text)

/** The keyword expressions, for the test that audits every expression for bounded repetition. */
export const SIGNAL_PATTERNS: readonly RegExp[] = [SCENARIO, HARM, TOPIC_WORD]

/** ASCII character classes: 1 letter, 2 digit, 3 symbol; 0 white space. Non-ASCII counts as letter. */
const CLASS = new Uint8Array(128).map((_, code) => {
  const char = String.fromCharCode(code)
  if (/\s/.test(char)) return 0
  if (/[a-z]/i.test(char)) return 1
  if (/[0-9]/.test(char)) return 2
  return code < 32 ? 0 : 3
})
/** Marks that ordinary words carry inside or at their ends: apostrophes, hyphens, dots, slashes. */
const ORDINARY_MARK = new Uint8Array(128)
for (const char of '.,;:!?\'"-/()_') ORDINARY_MARK[char.charCodeAt(0)] = 1

/**
 * Whether a token looks like adversarial token salad rather than a word, from what one pass over
 * it saw: a short run of marks standing alone ("[", "](", "**", "!"), or a word with a symbol
 * other than ordinary punctuation inside it, or a capital right after a lower-case letter.
 */
function isOddToken(length: number, letters: number, oddSymbol: boolean, caseFlip: boolean): boolean {
  if (letters === 0) return length <= 3 && oddSymbol
  return oddSymbol || caseFlip
}

/**
 * The signals of a raw text (for case and symbols), its normalised form and normalised chunks
 * (for the keywords: framing and topic count together only inside one chunk, or every long
 * document would have both).
 */
export function textSignals(text: string, normalized: string, chunks: readonly string[]): Float64Array {
  const signals = new Float64Array(SIGNAL_NAMES.length)
  // Ring of the last SALAD_WINDOW tokens' oddness, so the densest window is found in one pass.
  const ring = new Uint8Array(SALAD_WINDOW)
  // The last SUFFIX_WINDOW tokens' oddness, and the odd count of all tokens seen.
  const suffix = new Uint8Array(SUFFIX_WINDOW)
  let oddInSuffix = 0
  let oddTotal = 0
  let tokens = 0
  let oddInWindow = 0
  let densest = 0
  let symbols = 0
  let visible = 0
  let tokenStart = -1
  // The current token's letters, odd symbols and case flips, gathered as it is read.
  let letters = 0
  let oddSymbol = false
  let caseFlip = false
  let previousLower = false
  const length = text.length
  for (let index = 0; index <= length; index++) {
    const code = index < length ? text.charCodeAt(index) : 32
    const kind = code < 128 ? CLASS[code]! : 1
    if (kind !== 0) {
      visible++
      if (tokenStart < 0) {
        tokenStart = index
        letters = 0
        oddSymbol = false
        caseFlip = false
        previousLower = false
      }
      if (kind === 1) {
        letters++
        if (previousLower && code >= 65 && code <= 90) caseFlip = true
        previousLower = code >= 97 && code <= 122
      } else {
        previousLower = false
        if (kind === 3) {
          symbols++
          if (ORDINARY_MARK[code] === 0) oddSymbol = true
        }
      }
      continue
    }
    if (tokenStart < 0) continue
    const odd = isOddToken(index - tokenStart, letters, oddSymbol, caseFlip) ? 1 : 0
    const slot = tokens % SALAD_WINDOW
    oddInWindow += odd - ring[slot]!
    ring[slot] = odd
    const suffixSlot = tokens % SUFFIX_WINDOW
    oddInSuffix += odd - suffix[suffixSlot]!
    suffix[suffixSlot] = odd
    oddTotal += odd
    tokens++
    if (oddInWindow > densest) densest = oddInWindow
    tokenStart = -1
  }
  signals[0] = densest / SALAD_WINDOW
  const headTokens = tokens - SUFFIX_WINDOW
  const headOdd = oddTotal - oddInSuffix
  signals[1] =
    headTokens >= HEAD_TOKENS && oddInSuffix >= SUFFIX_ODD && headOdd <= HEAD_ODD_SHARE * headTokens ? 1 : 0
  signals[2] = visible === 0 ? 0 : symbols / visible
  // The whole text first: most texts have neither keyword, and then no chunk has one either.
  const single = chunks.length === 1
  const scenario = SCENARIO.test(normalized) && (single || chunks.some((chunk) => SCENARIO.test(chunk)))
  const harm = asksForHarm(normalized) && (single || chunks.some(asksForHarm))
  signals[3] = scenario ? 1 : 0
  signals[4] = harm ? 1 : 0
  const both =
    scenario && harm && (single || chunks.some((chunk) => SCENARIO.test(chunk) && asksForHarm(chunk)))
  signals[5] = both ? 1 : 0
  return signals
}
