/**
 * Which members of Ollama requests the model reads, for the prompt scanner: chat messages
 * (content, thinking, tool calls and tool names, with their role), tool definitions, the
 * generate prompt and suffix, and the `system` and `template` overrides, which replace the
 * model's own instructions and are scanned as system text. Embedding inputs count as documents.
 * Images are pixels and `context` is token ids: neither is text the scanner can read.
 */
import type { ModelTextSegment } from '../../../src/index'
import { chatRole, ModelTextCollector, pointer, recordOf } from '../../../src/index'

/** Members that steer loading and sampling and never reach the model as text. */
const SETTINGS = ['model', 'stream', 'keep_alive', 'think', 'options', 'raw', 'truncate', 'dimensions']
const known = (...members: string[]) => new Set([...SETTINGS, ...members])
const CHAT_KNOWN = known('messages', 'tools', 'format')
const GENERATE_KNOWN = known('prompt', 'suffix', 'system', 'template', 'images', 'context', 'format')
const EMBED_KNOWN = known('input', 'prompt')
const MESSAGE_KNOWN = new Set(['role', 'content', 'images', 'tool_calls', 'thinking', 'tool_name'])

/** `/api/chat`. */
export function chatModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  if (Array.isArray(body.messages)) {
    for (const [index, entry] of body.messages.entries()) {
      const path = pointer('/messages', index)
      const message = recordOf(entry)
      if (message === undefined) {
        into.json('user', entry, path)
        continue
      }
      const role = chatRole(message.role)
      into.json(role, message.content, pointer(path, 'content'))
      into.text(role, message.thinking, pointer(path, 'thinking'))
      into.text(role, message.tool_name, pointer(path, 'tool_name'))
      into.json(role, message.tool_calls, pointer(path, 'tool_calls'))
      into.rest(role, message, path, MESSAGE_KNOWN)
    }
  } else into.json('user', body.messages, '/messages')
  into.json('tool', body.tools, '/tools')
  into.json('system', body.format, '/format')
  into.rest('user', body, '', CHAT_KNOWN)
  return into.segments
}

/** `/api/generate`. */
export function generateModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.text('system', body.system, '/system')
  into.text('system', body.template, '/template')
  into.json('user', body.prompt, '/prompt')
  into.text('user', body.suffix, '/suffix')
  into.json('system', body.format, '/format')
  into.rest('user', body, '', GENERATE_KNOWN)
  return into.segments
}

/** `/api/embed` and `/api/embeddings`. */
export function embedModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.json('document', body.input, '/input')
  into.json('document', body.prompt, '/prompt')
  into.rest('user', body, '', EMBED_KNOWN)
  return into.segments
}
