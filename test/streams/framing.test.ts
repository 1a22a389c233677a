import { ContinuumError } from 'continuum-proxy'
import { describe, expect, it } from 'vitest'
import { formatNdjson, formatSse, parseNdjson, parseSse, splitLines } from '../../src/streams'

const encoder = new TextEncoder()

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? encoder.encode(part) : part
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of source) items.push(item)
  return items
}

describe('splitLines', () => {
  it('handles LF, CRLF and CR split across chunks', async () => {
    const lines = await collect(splitLines(chunks('a\r', '\nb\rc\n', 'd')))
    expect(lines).toEqual(['a', 'b', 'c', 'd'])
  })

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = encoder.encode('héllo\n')
    const lines = await collect(splitLines(chunks(bytes.slice(0, 2), bytes.slice(2))))
    expect(lines).toEqual(['héllo'])
  })

  it('refuses a line over the bound', async () => {
    const run = collect(splitLines(chunks('x'.repeat(50), 'y'.repeat(50)), { maxLineLength: 64 }))
    await expect(run).rejects.toSatisfy(
      (error: unknown) =>
        ContinuumError.isInstance(error) && error.code === 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    )
  })
})

describe('SSE', () => {
  it('parses events, multi-line data, ids and comments at any chunk boundary', async () => {
    const text =
      ': ping\nevent: message_start\ndata: {"a":1}\n\ndata: line1\ndata: line2\nid: 7\n\ndata: [DONE]\n\n'
    for (let cut = 1; cut < text.length; cut += 7) {
      const events = await collect(parseSse(chunks(text.slice(0, cut), text.slice(cut))))
      expect(events).toEqual([
        { event: 'message_start', data: '{"a":1}' },
        { data: 'line1\nline2', id: '7' },
        { data: '[DONE]' },
      ])
    }
  })

  it('round-trips through formatSse', async () => {
    const original = [{ event: 'delta', data: 'a\nb' }, { data: '{"x":"y"}' }]
    const text = original.map(formatSse).join('')
    expect(await collect(parseSse(chunks(text)))).toEqual(original)
  })
})

describe('NDJSON', () => {
  it('parses lines and skips blanks', async () => {
    const values = await collect(parseNdjson(chunks('{"a":1}\n\n{"b"', ':2}\n')))
    expect(values).toEqual([{ a: 1 }, { b: 2 }])
    expect(formatNdjson({ a: 1 })).toBe('{"a":1}\n')
  })

  it('rejects a line that is not JSON', async () => {
    await expect(collect(parseNdjson(chunks('{"a":1}\nnot json\n')))).rejects.toSatisfy(
      (error: unknown) =>
        ContinuumError.isInstance(error) && error.code === 'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
    )
  })
})
