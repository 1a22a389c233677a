/**
 * Hand-written pattern families for prompt injection, matched against normalised text (lower
 * case, folded, single spaces). Each family is one regular expression compiled once. They stay
 * linear-time on any input: every pattern starts with a literal keyword, and every repetition is
 * bounded (`{0,3}`, never `*` or `+`) over character classes that cannot overlap their
 * neighbours, so a match attempt costs a constant number of steps at each position. A test
 * checks the bounded-quantifier rule on the sources and feeds 1 MB adversarial inputs.
 *
 * The families are evidence, not verdicts: with the shipped model their weights are learned
 * (see combiner.ts); the weights below apply when the scanner runs on patterns alone.
 */
import { MULTILINGUAL_IGNORE_INSTRUCTIONS, unnegated } from './patterns-multilingual'

/** A named family of injection phrasings and how strongly one hit suggests an attack (0..1). */
export interface PatternFamily {
  readonly name: string
  readonly weight: number
  readonly pattern: RegExp
}

/** Up to `count` whole words between two keywords: " word" runs with no space inside a word. */
const gap = (count: number): string => `(?: [^ ]{1,24}){0,${count}}`

const IGNORE_VERBS = 'ignore|ignoring|disregard|forget|skip|overlook|override|bypass|abandon|neglect'
const EARLIER = 'previous|prior|above|earlier|preceding|foregoing|original|initial|all|any|every|your'
const DIRECTIVES =
  'instructions?|prompts?|rules|directions?|guidelines|directives?|tasks?|orders|commands?|context|assignments?|information|programming|constraints'
/** Verbs that ask for text to be handed back: the core of a prompt-extraction request. */
const LEAK_VERBS =
  'reveal|show|print|repeat|output|display|tell me|give me|write out|write down|leak|dump|spell out|recite|quote|echo|type out|copy|paste|list|share|disclose|expose|provide|return|read back|translate|summari[sz]e'
/** What an extraction request asks for. */
const PROMPT_NOUNS =
  'prompts?|instructions?|directives?|configuration|initiali[sz]ation|system message|pre-?prompt|prompt texts?'
/** After "your", rules and guidelines are the assistant's own too. */
const YOUR_NOUNS = `${PROMPT_NOUNS}|rules|guidelines|programming`
/** Qualifiers that make "the ... prompt" the assistant's own, also said of prompts in general. */
const OWN_GENERIC = 'initial|system|first|full|entire|complete|developer|starting|opening|whole'
/** Qualifiers that make "the ... prompt" the assistant's own, and nothing else. */
const OWN_STRONG =
  'original|hidden|secret|exact|above|previous|preceding|prior|earlier|verbatim|internal|confidential|underlying'
/** What a developer asks about prompts in general: "the system prompt format", "template", "examples". */
const ABOUT_PROMPTS =
  'formats?|templates?|syntax|structure|examples?|tokens?|engineering|design|best practices|guidelines for|tips'
/** What negates the verb after it: "do not", "don't" (either apostrophe), "never", "nor". */
const NEGATIONS = "not |never |n't |n’t |nor |dont "
/** A negated verb ("do not reveal your instructions") is a guard, not a request. */
const LEAK_VERB = unnegated(LEAK_VERBS, NEGATIONS)
/** The same for ignoring: "do not ignore the instructions in the README" asks to follow them. */
const IGNORE_VERB = unnegated(IGNORE_VERBS, NEGATIONS)

function family(name: string, weight: number, source: string): PatternFamily {
  return { name, weight, pattern: new RegExp(source, 'u') }
}

/** The families, strongest evidence first. Sources are plain strings so a test can audit them. */
export const PATTERN_FAMILIES: readonly PatternFamily[] = [
  family(
    'ignore_instructions',
    0.85,
    // "ignore all previous instructions"; "ignore the above", "forget everything before" need no noun
    `\\b${IGNORE_VERB}${gap(2)} (?:(?:${EARLIER})${gap(3)} (?:${DIRECTIVES})|above|before|previously|earlier)\\b` +
      // German and the other languages
      `|${MULTILINGUAL_IGNORE_INSTRUCTIONS}`,
  ),
  family(
    'system_override',
    0.6,
    `\\b(?:new|updated|real|actual) (?:system )?(?:instructions|task|rules|directive)s? ?(?::|follow|are)` +
      `|\\b(?:developer|debug|debugging|god|admin|administrator|maintenance|sudo|root) mode\\b` +
      `|\\bfrom now on,? you (?:are|will|must|shall) (?:no longer|not|only|ignore|act|answer|respond|be)\\b` +
      `|\\byou are no longer (?:an? )?(?:ai|assistant|chatgpt|bound|restricted|limited)\\b` +
      `|\\b(?:now )?focus on your new task\\b` +
      `|\\b(?:jetzt|nun) (?:neue|folgende) (?:aufgabe|anweisung)`,
  ),
  family(
    'jailbreak_attempt',
    0.8,
    `\\b(?:jailbreak|jailbroken|jailbreaking)\\b` +
      `|\\bdo anything now\\b|\\bdan mode\\b|\\b(?:pretend|act|you are) (?:to be |as )?dan\\b` +
      `|\\b(?:bypass|ignore|break|violate|disregard|circumvent)${gap(2)} (?:openai|content|safety|ethical|usage|moderation)${gap(1)} (?:polic(?:y|ies)|guidelines|filters?|rules|restrictions)\\b` +
      `|\\b(?:without|no|free of|free from|sans) (?:any )?(?:restrictions|limitations|filters|filtering|censorship|morals|ethics|prohibitions|guidelines|boundaries)\\b` +
      `|\\b(?:never|not|don't|do not|won't|will not|cannot|can't) (?:ever )?(?:refuse|decline|deny)${gap(2)} (?:requests?|questions?|anything|prompts?)\\b` +
      `|\\b(?:amoral|unfiltered|unrestricted|unethical) (?:ai|chatbot|bot|assistant|model|version|persona|character)\\b` +
      `|\\bstay in character\\b|\\bopposite mode\\b|\\bevil (?:ai|confidant|assistant|bot)\\b`,
  ),
  family(
    'prompt_leak',
    0.7,
    // "repeat the exact initial prompt you were given", "print your instructions"
    `\\b${LEAK_VERB}(?:` +
      // "repeat the exact initial prompt you were given", "print your instructions"
      // ("show me the system prompt format for llama 3" asks how prompts are written, not for one:
      // a generic qualifier and a word about prompts in general, unless the sentence goes on to
      // what "you" were given; "hidden prompt template" and "your system prompt format" still count)
      `${gap(3)} (?:${OWN_GENERIC})(?: [^ ]{1,24})? (?:${PROMPT_NOUNS})(?! (?:${ABOUT_PROMPTS})\\b(?![^.!?\\n]{0,40}\\byou\\b))` +
      `|${gap(3)} (?:${OWN_STRONG})(?: [^ ]{1,24})? (?:${PROMPT_NOUNS})` +
      `|${gap(2)} (?:your|its) (?:[^ ]{1,24} )?(?:${YOUR_NOUNS})` +
      // "output the text above", "repeat everything before this"
      `|${gap(3)} (?:text|words|sentences|lines|messages?|content|everything|paragraphs?|instructions|prompt) (?:above|before this|so far|prior to this|at the (?:start|beginning|top))` +
      ')\\b' +
      `|\\b(?:repeat|print) the (?:words|text|lines) above\\b|\\bcopy of the full prompt\\b` +
      `|\\bwhat (?:is|are|was|were) your (?:[^ ]{1,24} )?(?:${YOUR_NOUNS})\\b` +
      `|\\bwhat (?:were|are|have) you (?:been )?(?:told|instructed|programmed|prompted|asked) (?:to|not to|before)\\b` +
      `|\\b(?:i was|you were|you've been|you have been) (?:initially |originally )?(?:instructed|told|programmed|prompted) to\\b` +
      `|\\b(?:start|starting|begin|beginning)(?: [^ ]{1,24})? (?:with|from|at) ['"“]?you are\\b`,
  ),
  family(
    'embedded_instruction',
    0.5,
    // Instructions planted in a document or tool result, addressed to the model reading it.
    `\\b(?:note|message|instructions?|directive) (?:to|for) (?:the )?(?:ai|assistant|model|llm|chatbot|language model|bot)\\b` +
      `|\\b(?:ai|assistant|llm) (?:instructions?|note|directives?) ?:` +
      `|\\binstead,? (?:just |only |simply )?(?:say|print|output|respond|reply|write|return|answer)\\b` +
      `|\\b(?:just|simply) (?:print|say|output)\\b|\\bpwned\\b` +
      `|\\bignore (?:the )?rest of (?:this|the)\\b|\\bchange of plans\\b` +
      `|\\bthe (?:previous|above|prior) (?:instructions?|text|task) (?:is|are|was|were) (?:wrong|fake|a test|outdated|cancelled|canceled|void|invalid)\\b`,
  ),
  family(
    'delimiter_injection',
    0.7,
    `<\\|(?:im_start|im_end|endoftext|system|user|assistant|eot_id|start_header_id|end_header_id)\\|>` +
      `|\\[/?inst\\]|<</?sys>>|<\\/?system>|### ?new instructions?\\b` +
      `|\\[(?:system|admin|developer) (?:message|note|prompt|override)\\]`,
  ),
  family(
    'role_hijack',
    0.35,
    `\\b(?:you are|you're) (?:now|going to be|about to (?:immerse|become))${gap(1)} (?:a |an |my )?(?:new|different|unrestricted|evil|free|uncensored)\\b` +
      `|\\b(?:answer|respond|reply) as both\\b|\\btwo (?:different )?(?:responses|answers)${gap(3)} (?:normal|classic|standard)\\b`,
  ),
]
