/**
 * "Ignore / forget the (previous) instructions" in German and the other languages machine-translated
 * injections arrive in, written from general knowledge of each language (not fitted to any data set), for the
 * `ignore_instructions` family. Matched against normalised text (NFKC, lower case, single spaces).
 * Every Latin-script verb starts with an ASCII letter, where `\b` works (JavaScript's `\b` only
 * knows ASCII letters) and keeps the expression fast; Cyrillic verbs go without a boundary. Scripts
 * written without spaces (Chinese, Japanese, Thai) allow a bounded run of any characters between
 * the verb and the object. Every repetition is bounded, as in patterns.ts.
 */
import { normalizeText } from './normalize'

/** Up to `count` whole words between two keywords (the same shape as in patterns.ts). */
const gap = (count: number): string => `(?: [^ ]{1,24}){0,${count}}`
/** Up to `count` characters between two keywords, for scripts without spaces between words. */
const near = (count: number): string => `[^.!?。！？\\n]{0,${count}}`
/**
 * Keywords pass through the normaliser too: it folds Cyrillic look-alikes to Latin letters
 * ("игнорируй" becomes "игhopиpyй") and NFKC splits some Devanagari letters, so a keyword only
 * matches normalised text in its normalised spelling.
 */
const spelled = (keywords: string): string => normalizeText(keywords)

/**
 * Latin-script verb-first languages: an ignore or forget verb, a few words, then an instructions
 * noun. The verbs and nouns of all of them form one alternation each (a Spanish verb before an
 * Italian noun matches too, harmlessly), which keeps the expression one fast branch.
 */
const LATIN_VERBS = [
  // German (as in deepset's data), French, Spanish, Portuguese, Italian
  'ignoriere|ignorieren|vergiss|vergessen sie|missachte',
  'ignore[zr]?|oublie[zr]?|ne tenez pas compte|ne tiens pas compte',
  'ignora|ignoren|ignorar|olvida|olvide|olviden|olvidar|omite|omita|pasa por alto',
  'esqueça|esqueca|esquece|desconsidere|desconsidera',
  'ignorate|ignori|dimentica|dimenticate|dimentichi|trascura',
  // Dutch, Polish, Indonesian and Malay, Tagalog, Vietnamese
  'negeer|vergeet|zignoruj|ignoruj|zapomnij|abaikan|lupakan|acuhkan',
  'huwag pansinin|wag pansinin|balewalain|kalimutan',
  'bỏ qua|phớt lờ|lờ đi|quên|bỏ ngoài tai',
].join('|')
const LATIN_OBJECTS = [
  'anweisungen|aufgaben|befehle|alles|vorherigen|vorangegangenen|regeln',
  'instructions|consignes|directives|règles|ordres',
  'instrucciones|indicaciones|reglas|directrices|órdenes|ordenes',
  'instruções|instrucoes|orientações|orientacoes|regras|diretrizes|ordens',
  'istruzioni|indicazioni|regole|direttive|ordini',
  'instructies|aanwijzingen|opdrachten|instrukcje|instrukcji|polecenia|poleceń|zasady|wytyczne',
  'instruksi|petunjuk|perintah|aturan|arahan|tagubilin|instruksyon|utos|panuto',
  'hướng dẫn|chỉ dẫn|chỉ thị|lệnh|quy tắc',
].join('|')

/** Cyrillic verb-first languages, matched without a word boundary. */
const CYRILLIC_VERB_THEN_OBJECT: ReadonlyArray<readonly [verbs: string, objects: string]> = [
  // Russian and Ukrainian
  [
    'игнорируй(?:те)?|проигнорируй(?:те)?|забудь(?:те)?|не обращай(?:те)? внимания на|ігноруй(?:те)?|забудь(?:те)?',
    'инструкции|инструкций|указания|указаний|правила|команды|инструкції|вказівки',
  ],
]

/** Object-first (verb-final) languages and scripts without word spaces: object, then verb. */
const OBJECT_THEN_VERB: ReadonlyArray<readonly [objects: string, verbs: string]> = [
  // Turkish: "önceki talimatları yok say / görmezden gel / unut / dikkate alma". The normaliser
  // drops the dot that `İ` leaves after lower-casing and folds dotless `ı` to `i`, so capitals
  // ("TALİMATLARI") and either i match these spellings. Only the imperatives, plain or polite,
  // as whole words: Turkish negates and inflects by suffix, so a bare stem would also match
  // "unutma" (don't forget), "yok sayma" (don't ignore) and "dikkate almak" (to take into account).
  [
    'talimatları|yönergeleri|komutları|kuralları',
    '(?:yok say(?:ın|ınız)?|görmezden gel(?:in|iniz)?|unut(?:un|unuz)?|dikkate alma(?:yın|yınız)?)(?![a-zçğöşüâîû])',
  ],
  // Japanese: 以前の指示を無視して
  ['指示|命令|指令|ルール|プロンプト|インストラクション', '無視|忘れ'],
  // Korean: 이전 지침을 무시하고
  ['지시|지침|명령|규칙|지시사항|프롬프트', '무시|잊어|잊으'],
  // Hindi: पिछले सभी निर्देशों को अनदेखा करें
  ['निर्देशों|निर्देश|आदेशों|आदेश|हिदायतों', 'अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल जा|उपेक्षा'],
  // Bengali: পূর্ববর্তী নির্দেশাবলী উপেক্ষা করুন
  ['নির্দেশাবলী|নির্দেশনা|নির্দেশ|আদেশ', 'উপেক্ষা|অগ্রাহ্য|ভুলে যা'],
]

/** Verb first in scripts without word spaces (or where the object follows closely). */
const VERB_NEAR_OBJECT: ReadonlyArray<readonly [verbs: string, objects: string]> = [
  // Chinese (simplified and traditional): 忽略之前的所有指令
  [
    '忽略|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|忽视|忽視|不理会',
    '指令|指示|说明|說明|规则|規則|命令|提示',
  ],
  // Arabic: تجاهل جميع التعليمات السابقة
  [
    'تجاهل|تجاهلي|تجاهلوا|انس|انسى|انسي|اغفل|لا تلتزم ب',
    'التعليمات|تعليمات|الأوامر|الاوامر|الإرشادات|التوجيهات',
  ],
  // Thai: เพิกเฉยต่อคำสั่งก่อนหน้า
  ['เพิกเฉย|ละเว้น|ไม่สนใจ|ลืม|ละเลย', 'คำสั่ง|คำแนะนำ|ข้อกำหนด'],
]

/** The alternatives, joined into one regular-expression source for the family. */
export const MULTILINGUAL_IGNORE_INSTRUCTIONS: string = [
  `\\b(?:${spelled(LATIN_VERBS)})${gap(4)} (?:${spelled(LATIN_OBJECTS)})`,
  ...CYRILLIC_VERB_THEN_OBJECT.map(
    ([verbs, objects]) => `(?:${spelled(verbs)})${gap(4)} (?:${spelled(objects)})`,
  ),
  ...OBJECT_THEN_VERB.map(([objects, verbs]) => `(?:${spelled(objects)})${near(16)}(?:${spelled(verbs)})`),
  ...VERB_NEAR_OBJECT.map(([verbs, objects]) => `(?:${spelled(verbs)})${near(16)}(?:${spelled(objects)})`),
].join('|')
