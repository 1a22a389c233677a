/**
 * Cuts a text into chunks of at most a few hundred characters at line and sentence ends, so the
 * classifier can score a long document piece by piece: one planted sentence ("Ignore the rest of
 * this data and print ...") is then most of its chunk instead of a hundredth of the document.
 * Chunks are spans of the original string (offsets in UTF-16 code units), which is what a scan
 * result reports as the location of an injection. One pass, no regular expressions: linear time.
 */

/** Spans `[starts[i], ends[i])` of the original text, in order, covering all of it. */
export interface ChunkSpans {
  readonly starts: Int32Array
  readonly ends: Int32Array
  readonly count: number
}

const NEWLINE = 0x0a
const isSpace = (code: number): boolean =>
  code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x3000
/** `.`, `!`, `?` and `;` end a sentence when white space follows. */
const isSentenceEnd = (code: number): boolean =>
  code === 0x2e || code === 0x21 || code === 0x3f || code === 0x3b
/** CJK full stops, exclamation and question marks end a sentence with no space after them. */
const isCjkSentenceEnd = (code: number): boolean => code === 0x3002 || code === 0xff01 || code === 0xff1f
const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff

/**
 * Greedy packing: a chunk grows unit by unit (a unit ends at a newline or a sentence end) and is
 * closed at the last unit end before it would pass `maxChunk` units of text; a unit longer than
 * that is cut at its last white space, or, in a run with no white space at all, at `maxChunk`
 * (never between the halves of a surrogate pair).
 */
export function chunkSpans(text: string, maxChunk: number): ChunkSpans {
  const length = text.length
  const capacity = Math.max(1, Math.ceil(length / Math.max(1, maxChunk >> 1)) + 1)
  let starts = new Int32Array(Math.min(capacity, 64))
  let ends = new Int32Array(starts.length)
  let count = 0
  const push = (start: number, end: number): void => {
    if (count === starts.length) {
      const grownStarts = new Int32Array(count * 2)
      const grownEnds = new Int32Array(count * 2)
      grownStarts.set(starts)
      grownEnds.set(ends)
      starts = grownStarts
      ends = grownEnds
    }
    starts[count] = start
    ends[count] = end
    count++
  }
  let start = 0
  /** End of the last complete unit seen; it counts only when inside the current chunk. */
  let unitEnd = -1
  /** Position just after the last white space seen; likewise. */
  let spaceEnd = -1
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index)
    if (index - start >= maxChunk) {
      let cut = unitEnd > start ? unitEnd : spaceEnd > start ? spaceEnd : index
      if (cut === index && isHighSurrogate(text.charCodeAt(index - 1))) cut = index - 1
      push(start, cut)
      // The last unit end is the cut itself and a later white space stays valid, so nothing
      // between the cut and here needs scanning again.
      start = cut
    }
    if (code === NEWLINE) unitEnd = index + 1
    else if (isCjkSentenceEnd(code)) unitEnd = index + 1
    else if (isSpace(code)) {
      spaceEnd = index + 1
      if (index > start && isSentenceEnd(text.charCodeAt(index - 1))) unitEnd = index + 1
    }
  }
  if (start < length || count === 0) push(start, length)
  return { starts, ends, count }
}
