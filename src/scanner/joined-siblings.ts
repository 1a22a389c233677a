/**
 * Text the model reads as one that arrives in pieces: the text parts of one message, the blocks of
 * a system prompt or of a tool result. Scored piece by piece, an injection cut across parts
 * ("Disregard", "your", "instructions", ... or "Dis", "reg", "ard ...") is a handful of harmless
 * fragments. The segments of one role that are items of the same array (paths `P/0/S`,
 * `P/1/S`, ...) are therefore also scored joined, once with a newline between items (how
 * chat templates render parts) and once with nothing (how other servers concatenate them), so
 * neither a cut between words nor one inside a word hides the sentence.
 *
 * Only what lies within {@link REACH} characters of a place where two items meet is scored again:
 * the rest of each item was scored on its own already. Scoring whole joined texts tripled the
 * characters scored for a message sent in large parts (100 parts of 1.7 KB: 175,000 characters
 * scored 525,000 times), an amplifier for whoever sends large requests; the windows around the
 * meeting places, merged where they overlap and cut into runs of at most {@link MAX_RUN}
 * characters, score at most 2 × REACH + 1 characters a meeting place and separator (277,000 in
 * all there), and never more than about the joined text itself a separator, however small the
 * parts.
 */
import type { ScanRole, TextSegment } from './extract-text'

/** One joined view of a group of siblings: its text, and the offset in it where each segment starts. */
export interface JoinedView {
  readonly text: string
  readonly segments: readonly TextSegment[]
  readonly offsets: readonly number[]
}

/** Where a span of a joined view starts: the segment it starts in, with offsets in that segment. */
export interface SegmentSpan {
  readonly path: string
  readonly role: ScanRole
  readonly start: number
  readonly end: number
}

const SEPARATORS = ['\n', ''] as const
/** Characters scored on each side of the place where two items meet (the scanner's chunk length). */
const REACH = 256
/** Longest text scored at once; a longer run of windows is cut, consecutive pieces overlapping by REACH. */
const MAX_RUN = 4096

/**
 * The joined views of every group of two or more sibling segments, each group in document order:
 * windows of the joined text around the places where items meet. Siblings need not be adjacent in
 * the list: a walk of every string (extract-text.ts) puts each part's `type` between two texts.
 */
export function joinedViews(segments: readonly TextSegment[]): JoinedView[] {
  const groups = new Map<string, TextSegment[]>()
  for (const segment of segments) {
    const key = siblingKey(segment)
    if (key === undefined) continue
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [segment])
    else group.push(segment)
  }
  const views: JoinedView[] = []
  for (const group of groups.values()) {
    if (group.length > 1) for (const separator of SEPARATORS) views.push(...windowsOf(group, separator))
  }
  return views
}

/** Maps a span of a joined view back to the segment it starts in (clipped to that segment). */
export function segmentSpanOf(view: JoinedView, start: number, end: number): SegmentSpan {
  let index = 0
  while (index + 1 < view.offsets.length && view.offsets[index + 1]! <= start) index++
  const segment = view.segments[index]!
  const offset = view.offsets[index]!
  const from = Math.min(Math.max(0, start - offset), segment.text.length)
  const to = Math.max(from, Math.min(end - offset, segment.text.length))
  return { path: segment.path, role: segment.role, start: from, end: to }
}

/** The windows of `group` joined by `separator` around each place where two items meet. */
function windowsOf(group: readonly TextSegment[], separator: string): JoinedView[] {
  const offsets: number[] = []
  let length = 0
  for (const [index, segment] of group.entries()) {
    if (index > 0) length += separator.length
    offsets.push(length)
    length += segment.text.length
  }
  const text = group.map((segment) => segment.text).join(separator)
  // One interval per meeting place, merged with the one before when they touch.
  const runs: [number, number][] = []
  for (let index = 1; index < group.length; index++) {
    const from = Math.max(0, offsets[index]! - separator.length - REACH)
    const to = Math.min(length, offsets[index]! + REACH)
    const last = runs.at(-1)
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to)
    else runs.push([from, to])
  }
  const views: JoinedView[] = []
  // Windows come in order, so the first segment each touches only moves forward.
  let first = 0
  for (const [from, to] of runs) {
    for (let start = from; ; start += MAX_RUN - REACH) {
      const end = Math.min(to, start + MAX_RUN)
      while (first + 1 < group.length && offsets[first + 1]! <= start) first++
      let last = first
      while (last + 1 < group.length && offsets[last + 1]! < end) last++
      views.push({
        text: text.slice(start, end),
        segments: group.slice(first, last + 1),
        offsets: offsets.slice(first, last + 1).map((offset) => offset - start),
      })
      if (end >= to) break
    }
  }
  return views
}

/**
 * What sibling items share: the role, the pointer of the array (up to the last array index in the
 * path) and the rest of the path after it (`/text`). Undefined for a path with no array index.
 * Found by walking back over the path's tokens, not with a regular expression, so a long path
 * (an object key is part of it) costs time linear in its length.
 */
function siblingKey(segment: TextSegment): string | undefined {
  const { path } = segment
  let end = path.length
  while (end > 0) {
    const slash = path.lastIndexOf('/', end - 1)
    if (slash < 0) return undefined
    if (end - slash > 1 && end - slash <= 10 && isDigits(path, slash + 1, end)) {
      return `${segment.role}\u0000${path.slice(0, slash)}\u0000${path.slice(end)}`
    }
    end = slash
  }
  return undefined
}

function isDigits(text: string, from: number, to: number): boolean {
  for (let index = from; index < to; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x30 || code > 0x39) return false
  }
  return true
}
