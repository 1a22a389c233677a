import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { describe, expect, it } from 'vitest'
import { createFieldKey } from '../../src/cipher/field-key'
import { encryptFields } from '../../src/cipher/field-map'

const registry = new AdapterRegistry(builtinAdapters())

function routeOf(method: string, path: string): string | undefined {
  const lookup = registry.lookup(method, path)
  return lookup.kind === 'match' ? `${lookup.match.route.adapter}:${lookup.match.route.name}` : undefined
}

describe('built-in adapters', () => {
  it('register together without clashing routes', () => {
    expect(registry.names).toEqual(['openai', 'anthropic', 'triton', 'tgi', 'ollama'])
  })

  it.each([
    ['POST', '/v1/messages', 'anthropic:messages'],
    ['POST', '/v1/messages/count_tokens', 'anthropic:count-tokens'],
    ['GET', '/v1/models', 'openai:models'],
    ['POST', '/v2/models/ensemble/generate', 'triton:generate'],
    ['POST', '/v2/models/ensemble/versions/2/generate_stream', 'triton:generate-stream-versioned'],
    ['POST', '/v2/models/resnet/infer', 'triton:infer'],
    ['GET', '/v2/models/resnet', 'triton:model-metadata'],
    ['GET', '/v2/health/live', 'triton:health-live'],
    ['POST', '/generate', 'tgi:generate'],
    ['POST', '/generate_stream', 'tgi:generate-stream'],
    ['GET', '/info', 'tgi:info'],
    ['POST', '/api/chat', 'ollama:chat'],
    ['POST', '/api/show', 'ollama:show'],
  ])('serve %s %s with %s', (method, path, expected) => {
    expect(routeOf(method, path)).toBe(expected)
  })

  it.each([
    ['/ollama/api/generate', 'ollama:generate'],
    ['/tgi/generate', 'tgi:generate'],
    ['/triton/v2/models/m/generate', 'triton:generate'],
    ['/triton/v2/models/m/versions/7/generate', 'triton:generate-versioned'],
    ['/anthropic/v1/messages', 'anthropic:messages'],
  ])('let the client find the longest matching route behind a base path: %s', (path, expected) => {
    const match = registry.lookupSuffix('POST', path)
    expect(match && `${match.route.adapter}:${match.route.name}`).toBe(expected)
  })

  it('stream predicates follow each protocol: Ollama streams unless told not to, TGI and Triton streams always do', () => {
    const stream = (method: string, path: string) => {
      const lookup = registry.lookup(method, path)
      if (lookup.kind !== 'match') throw new Error(`no route for ${path}`)
      return lookup.match.route.stream!
    }
    expect(stream('POST', '/api/chat').isStreaming({ model: 'm' })).toBe(true)
    expect(stream('POST', '/api/chat').isStreaming({ model: 'm', stream: false })).toBe(false)
    expect(stream('POST', '/generate_stream').isStreaming({})).toBe(true)
    expect(stream('POST', '/v2/models/m/generate_stream').isStreaming({})).toBe(true)
    expect(stream('POST', '/v1/messages').isStreaming({})).toBe(false)
    expect(stream('POST', '/v1/messages').isFinal?.({ type: 'message_delta' }, 'message_delta')).toBe(false)
    expect(stream('POST', '/v1/messages').isFinal?.({ type: 'message_stop' }, 'message_stop')).toBe(true)
  })

  it('encrypt content yet keep routing fields of an Anthropic request plain', () => {
    const lookup = registry.lookup('POST', '/v1/messages')
    if (lookup.kind !== 'match') throw new Error('no route')
    const context = {
      key: createFieldKey('k1', new Uint8Array(32).fill(7)),
      nonce: 'n'.repeat(22),
      direction: 'request' as const,
    }
    const encrypted = encryptFields(
      lookup.match.route.requestTree,
      {
        model: 'claude',
        max_tokens: 10,
        system: 'sys',
        tool_choice: { type: 'tool', name: 'lookup' },
        messages: [{ role: 'user', content: 'hi' }],
      },
      context,
      0,
    ) as {
      system: unknown
      tool_choice: { name: unknown }
      messages: { role: unknown; content: unknown }[]
    }
    expect(encrypted).toMatchObject({ model: 'claude', max_tokens: 10, tool_choice: { type: 'tool' } })
    expect(encrypted.messages[0]?.role).toBe('user')
    for (const value of [encrypted.system, encrypted.tool_choice.name, encrypted.messages[0]?.content]) {
      expect(value).toMatch(/^cp2\.k1\./)
    }
  })
})
