import { type Classification, DataClassifier } from 'continuum-proxy/classifier'
import { describe, expect, it } from 'vitest'

const classifier = new DataClassifier()
const types = (text: string): string[] => classifier.inspect(text).findings.map((finding) => finding.type)

// Well-known test values: documented sample numbers, never real people's data.
const SAMPLES = {
  EMAIL: 'jane.doe+news@example.co.uk',
  PHONE: '+1 415 555 2671',
  CREDIT_CARD: '4111 1111 1111 1111',
  IBAN: 'GB82 WEST 1234 5698 7654 32',
  US_SSN: '123-45-6789',
  UK_NINO: 'AB 12 34 56 C',
  OPENAI_KEY: 'sk-proj-4fT9qLm2Xw8ZrB7nV3kP1sD6',
  ANTHROPIC_KEY: 'sk-ant-api03-Zq8Wm4Lr2Tn6Vb1Xc9Kd3Pf7Hs5Jg0Ay',
  AWS_ACCESS_KEY: 'AKIAIOSFODNN7EXAMPLE',
  GITHUB_TOKEN: `ghp_${'a1B2c3D4e5F6'.repeat(3)}`,
  SLACK_TOKEN: 'xoxb-2048123456-4096123456-AbCdEfGhIjKl',
  GOOGLE_API_KEY: 'AIzaSyD4x7Qm2Lr9Tn6Vb1Xc8Kd3Pf5Hs0Jg7Wy',
  HIGH_ENTROPY_SECRET: 'xQ9fL2mZ7pR4tW8vK3nB6yH1cJ5dG0sA',
} as const

describe('DataClassifier detectors', () => {
  it('finds each type with its exact span and never the value', () => {
    for (const [type, value] of Object.entries(SAMPLES)) {
      const text = `before ${value} after`
      const { findings } = classifier.inspect(text)
      expect(findings, type).toEqual([
        { type, level: expect.any(String), path: '', start: 7, end: 7 + value.length },
      ])
      expect(JSON.stringify(findings)).not.toContain(value)
    }
  })

  it('finds PEM private keys from BEGIN to END', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----'
    const { findings } = classifier.inspect(`key:\n${pem}\nthanks`)
    expect(findings).toEqual([
      { type: 'PRIVATE_KEY', level: 'restricted', path: '', start: 5, end: 5 + pem.length },
    ])
  })

  it('rejects look-alikes that fail checksums and reserved ranges', () => {
    expect(types('card 4111 1111 1111 1112')).toEqual([]) // Luhn fails
    expect(types('iban GB82 WEST 1234 5698 7654 33')).toEqual([]) // mod 97 fails
    for (const ssn of [
      '000-12-3456',
      '666-12-3456',
      '912-12-3456',
      '123-00-4567',
      '123-45-0000',
      '078-05-1120',
    ]) {
      expect(types(`ssn ${ssn}`), ssn).toEqual([])
    }
    expect(types('nino GB 12 34 56 C')).toEqual([]) // unallocated prefix
    expect(types('commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b')).toEqual([]) // hex hash: not a secret
    expect(types('server 192.168.100.200 on 2024-01-15 build 20240115')).toEqual([])
    expect(types('The InternationalizationFrameworkConfiguration class')).toEqual([])
  })
})

describe('classification and redaction of requests', () => {
  const request = {
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: [{ type: 'text', text: `Email ${SAMPLES.EMAIL} about the invoice.` }] },
      { role: 'tool', toolCallId: 'call_1', content: `aws key ${SAMPLES.AWS_ACCESS_KEY}` },
    ],
  }

  it('maps requests to levels and reports JSON paths', () => {
    const result = classifier.inspect(request)
    expect(result.classification).toBe('restricted')
    expect(result.findings.map((finding) => [finding.type, finding.path])).toEqual([
      ['EMAIL', 'messages.1.content.0.text'],
      ['AWS_ACCESS_KEY', 'messages.2.content'],
    ])
    const levels: Array<[unknown, Classification]> = [
      ['What is the tallest mountain?', 'public'],
      ['INTERNAL USE ONLY: the roadmap draft', 'internal'],
      [`Call me on ${SAMPLES.PHONE}`, 'confidential'],
      [`My card is ${SAMPLES.CREDIT_CARD}`, 'restricted'],
    ]
    for (const [input, level] of levels) expect(classifier.classify(input)).toBe(level)
  })

  it('works as a detached router classifier and honours options', () => {
    const { classify } = classifier
    expect(classify({ model: 'x', messages: [{ role: 'user', content: SAMPLES.US_SSN }] })).toBe('restricted')
    const relaxed = new DataClassifier({ levels: { EMAIL: 'internal' }, types: ['EMAIL'], markers: {} })
    expect(relaxed.classify(`${SAMPLES.EMAIL} and ${SAMPLES.CREDIT_CARD}`)).toBe('internal')
    expect(relaxed.classify('INTERNAL USE ONLY')).toBe('public')
  })

  it('redacts a copy with typed markers and leaves identifiers and the input alone', () => {
    const redacted = classifier.redact(request)
    expect(redacted.messages[1]!.content).toEqual([
      { type: 'text', text: 'Email [REDACTED:EMAIL] about the invoice.' },
    ])
    expect(redacted.messages[2]).toEqual({
      role: 'tool',
      toolCallId: 'call_1',
      content: 'aws key [REDACTED:AWS_ACCESS_KEY]',
    })
    expect(redacted.model).toBe('gpt-4o')
    expect(JSON.stringify(request)).toContain(SAMPLES.AWS_ACCESS_KEY)
    expect(classifier.redact(`card ${SAMPLES.CREDIT_CARD}, mail ${SAMPLES.EMAIL}`)).toBe(
      'card [REDACTED:CREDIT_CARD], mail [REDACTED:EMAIL]',
    )
    const image = { type: 'image', data: SAMPLES.HIGH_ENTROPY_SECRET, mediaType: 'image/png' }
    expect(classifier.redact(image)).toEqual(image)
  })

  it('rejects invalid options with CONTINUUM_INVALID_OPTIONS', () => {
    for (const options of [
      { types: ['NOPE'] },
      { levels: { EMAIL: 'secret' } },
      { markers: { public: ['x'] } },
      { markers: { internal: [''] } },
    ]) {
      expect(() => new DataClassifier(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
      )
    }
  })
})
