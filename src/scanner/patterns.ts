/**
 * Hand-written pattern families for prompt injection, matched against normalised text (lower
 * case, folded, single spaces). Each family is one regular expression compiled once. They stay
 * linear-time on any input: every pattern starts with a literal keyword, and every repetition is
 * bounded (`{0,3}`, never `*` or `+`) over character classes that cannot overlap their
 * neighbours, so a match attempt costs a constant number of steps at each position. A test
 * checks the bounded-quantifier rule on the sources and feeds 1 MB adversarial inputs.
 */

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

function family(name: string, weight: number, source: string): PatternFamily {
  return { name, weight, pattern: new RegExp(source, 'u') }
}

/** The families, strongest evidence first. Sources are plain strings so a test can audit them. */
export const PATTERN_FAMILIES: readonly PatternFamily[] = [
  family(
    'ignore_instructions',
    0.85,
    `\\b(?:${IGNORE_VERBS})${gap(2)} (?:${EARLIER})${gap(3)} (?:${DIRECTIVES})\\b` +
      // German, as in deepset's data: "ignoriere alle vorherigen anweisungen", "vergiss alles"
      `|\\b(?:ignoriere|ignorieren|vergiss|vergessen sie)${gap(3)} (?:anweisungen|aufgaben|befehle|alles|vorherigen|vorangegangenen)\\b`,
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
    `\\b(?:reveal|show|print|repeat|output|display|tell me|give me|write out|leak|dump|spell out)${gap(2)} (?:your|the|all your|the full|the initial|the original|the hidden|the secret) ` +
      `(?:full |entire |initial |original |hidden |secret |system |complete )?(?:system )?(?:prompts?|instructions|prompt texts?|configuration)\\b` +
      `|\\b(?:repeat|print) the (?:words|text|lines) above\\b|\\bcopy of the full prompt\\b` +
      `|\\bwhat (?:is|are|was|were) your (?:system |initial |original |hidden )(?:prompt|instructions)\\b`,
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
