/** Requests and stream helpers shared by the tests of the OpenAI-shaped providers. */
import type { CanonicalRequest, StreamChunk } from 'continuum-proxy'

export const openaiRequest: CanonicalRequest = {
  model: 'gpt-4o-mini',
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Hello!' }],
  temperature: 0.2,
  topP: 0.9,
  maxTokens: 64,
  stop: ['\n\n'],
}

export const weatherTool = {
  name: 'get_weather',
  description: 'Get the current weather for a location',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
}

export async function collect(iterable: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const chunks: StreamChunk[] = []
  for await (const chunk of iterable) chunks.push(chunk)
  return chunks
}

/** The argument text of each tool call, assembled from its deltas. */
export function assembleToolCalls(
  chunks: StreamChunk[],
): Array<{ id?: string; name?: string; arguments: string }> {
  const calls: Array<{ id?: string; name?: string; arguments: string }> = []
  for (const chunk of chunks) {
    if (chunk.type !== 'tool-call-delta') continue
    const call = calls[chunk.index] ?? { arguments: '' }
    calls[chunk.index] = call
    if (chunk.id !== undefined) call.id = chunk.id
    if (chunk.name !== undefined) call.name = chunk.name
    call.arguments += chunk.argumentsDelta
  }
  return calls
}
