/**
 * The classifier walked a request recursively and stopped at 32 levels, silently: a secret nested
 * deeper (a tool's JSON Schema nests two levels per property, the proxy admits 64) was neither
 * found, so a `classification_based` router sent a restricted request to a cloud provider, nor
 * redacted, so `redact()` returned it verbatim, shared with the input instead of copied. Every
 * depth is now read, and an object reached twice (a cycle) is read once.
 */
import { DataClassifier } from 'continuum-proxy/classifier'
import { describe, expect, it } from 'vitest'

const classifier = new DataClassifier()
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE'

/** A tool whose argument schema nests `levels` object properties, the innermost described with `text`. */
function nestedTool(levels: number, text: string): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string', description: text }
  for (let level = 0; level < levels; level++) {
    schema = { type: 'object', properties: { [`p${level}`]: schema } }
  }
  return { name: 'lookup', parameters: schema }
}

function request(levels: number): Record<string, unknown> {
  return {
    model: 'gpt-4o',
    messages: [{ role: 'user', content: 'Call the tool.' }],
    tools: [nestedTool(levels, `use key ${AWS_KEY}`)],
  }
}

describe('DataClassifier on deep requests', () => {
  it('finds and classifies a secret nested past 32 levels', () => {
    for (const levels of [4, 20, 200]) {
      const result = classifier.inspect(request(levels))
      expect(result.classification, `${levels} levels`).toBe('restricted')
      expect(result.findings.map((finding) => finding.type)).toEqual(['AWS_ACCESS_KEY'])
      expect(result.findings[0]!.path.split('.')).toHaveLength(3 + 2 * levels + 1)
    }
  })

  it('redacts a secret nested past 32 levels into a copy, leaving the input alone', () => {
    const input = request(20)
    const redacted = classifier.redact(input)
    expect(JSON.stringify(redacted)).not.toContain(AWS_KEY)
    expect(JSON.stringify(redacted)).toContain('use key [REDACTED:AWS_ACCESS_KEY]')
    expect(JSON.stringify(input)).toContain(AWS_KEY)
    expect(JSON.stringify(redacted).length).toBe(
      JSON.stringify(input).length - AWS_KEY.length + '[REDACTED:AWS_ACCESS_KEY]'.length,
    )
  })

  it('reads an object reached twice once, and copies a cycle as a cycle', () => {
    const shared: Record<string, unknown> = { text: `key ${AWS_KEY}` }
    shared.self = shared
    expect(classifier.inspect({ first: shared, second: shared }).findings).toEqual([
      { type: 'AWS_ACCESS_KEY', level: 'restricted', path: 'first.text', start: 4, end: 24 },
    ])
    const redacted = classifier.redact({ first: shared }) as { first: Record<string, unknown> }
    expect(redacted.first.text).toBe('key [REDACTED:AWS_ACCESS_KEY]')
    expect(redacted.first.self).toBe(redacted.first)
    expect(shared.text).toBe(`key ${AWS_KEY}`)
  })
})
