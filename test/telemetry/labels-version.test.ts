/**
 * Telemetry's own bounds: model labels (allow-list, safe alphabet, cap) and the instrumentation
 * version. The GenAI facts each protocol reads are tested with the adapters (test/adapters/facts.test.ts).
 */
import { readFileSync } from 'node:fs'
import { INSTRUMENTATION_VERSION } from 'continuum-proxy/telemetry'
import { describe, expect, it } from 'vitest'
import { ModelLabels } from '../../src/telemetry/label-bounds'

describe('telemetry bounds', () => {
  it('bounds model labels: allow-list, safe alphabet, cap', () => {
    const listed = new ModelLabels({ models: ['llama-3-8b'], maxModels: 10 })
    expect(listed.label('llama-3-8b')).toBe('llama-3-8b')
    expect(listed.label('anything else')).toBe('other')
    expect(listed.label(undefined)).toBe('unknown')
    const capped = new ModelLabels({ models: undefined, maxModels: 2 })
    expect(capped.label('a"b\nc{d}')).toBe('a_b_c_d_')
    expect(capped.label('x'.repeat(100))).toHaveLength(64)
    expect(capped.label('third')).toBe('other')
    expect(capped.label('a"b\nc{d}')).toBe('a_b_c_d_')
  })

  it('reports the package version as the instrumentation version', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(INSTRUMENTATION_VERSION).toBe(manifest.version)
  })
})
