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
    expect(listed.label('llama-3-8b', false)).toBe('llama-3-8b')
    expect(listed.label('anything else', true)).toBe('other')
    expect(listed.label(undefined, true)).toBe('unknown')
    const capped = new ModelLabels({ models: undefined, maxModels: 2 })
    expect(capped.label('a"b\nc{d}', true)).toBe('a_b_c_d_')
    expect(capped.label('x'.repeat(100), true)).toHaveLength(64)
    expect(capped.label('third', true)).toBe('other')
    expect(capped.label('a"b\nc{d}', false)).toBe('a_b_c_d_')
  })

  it('gives a model name a slot only once a request for it was served', () => {
    const labels = new ModelLabels({ models: undefined, maxModels: 1 })
    expect(labels.label('unknown-to-the-server', false)).toBe('other')
    expect(labels.label('llama-3-8b', true)).toBe('llama-3-8b')
    expect(labels.label('llama-3-8b', false)).toBe('llama-3-8b')
  })

  it('reports the package version as the instrumentation version', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string
    }
    expect(INSTRUMENTATION_VERSION).toBe(manifest.version)
  })
})
