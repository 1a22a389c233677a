/**
 * Canonical answers → OpenAI Responses API objects, for the gateway: the `response` object (a
 * reasoning item, an assistant message with `output_text` and `refusal` parts, `function_call`
 * items; status `completed`, `incomplete` with its reason, or `failed`) and its event stream
 * (`response.created`, output items opened and closed around their deltas, `response.completed`
 * or `response.incomplete` carrying the whole response). Events are numbered with
 * `sequence_number` as OpenAI numbers them. A same-dialect provider's answer and events go back as
 * they came, under the public model name. One item is open at a time, so a provider that
 * interleaves the fragments of parallel tool calls ends the stream with an error.
 */
import {
  type CanonicalResponse,
  type Citation,
  ContinuumError,
  type FinishReason,
  type GatewayStreamWriter,
  type StreamChunk,
  type StreamEvent,
  type Usage,
} from '../../../src/index'

/** What every Responses object of one request shares. */
export interface ResponsesAnswerContext {
  /** `resp_...`. */
  readonly id: string
  readonly model: string
  /** Unix seconds. */
  readonly created: number
  /** A fresh hex id for output items. */
  itemId(): string
  /** Request parameters the response object repeats (tools, tool choice, sampling...). */
  readonly echo: Readonly<Record<string, unknown>>
}

/** The Responses usage object. */
export function toResponsesUsage(usage: Usage | undefined): Record<string, unknown> {
  const input = usage?.inputTokens ?? 0
  const output = usage?.outputTokens ?? 0
  const inputDetails: Record<string, number> = { cached_tokens: usage?.cacheReadTokens ?? 0 }
  if (usage?.cacheWriteTokens !== undefined) inputDetails.cache_write_tokens = usage.cacheWriteTokens
  return {
    input_tokens: input,
    input_tokens_details: inputDetails,
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.reasoningTokens ?? 0 },
    total_tokens: input + output,
  }
}

/** A citation as a Responses `url_citation` annotation. */
export function toResponsesAnnotation(citation: Citation): Record<string, unknown> {
  return {
    type: 'url_citation',
    url: citation.url,
    title: citation.title ?? '',
    start_index: citation.start ?? 0,
    end_index: citation.end ?? 0,
  }
}

/** Status and its details for a canonical finish reason. */
function statusOf(reason: FinishReason): Record<string, unknown> {
  switch (reason) {
    case 'length':
      return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, error: null }
    case 'content_filter':
      return { status: 'incomplete', incomplete_details: { reason: 'content_filter' }, error: null }
    case 'error':
      return {
        status: 'failed',
        incomplete_details: null,
        error: { code: 'server_error', message: 'The provider stopped for a reason it did not name' },
      }
    default:
      return { status: 'completed', incomplete_details: null, error: null }
  }
}

/** The event name that ends a stream with this finish reason. */
function terminalEvent(reason: FinishReason): string {
  if (reason === 'error') return 'response.failed'
  return reason === 'length' || reason === 'content_filter' ? 'response.incomplete' : 'response.completed'
}

function responseObject(
  context: ResponsesAnswerContext,
  output: unknown[],
  status: Record<string, unknown>,
  usage: Record<string, unknown> | null,
): Record<string, unknown> {
  return {
    id: context.id,
    object: 'response',
    created_at: context.created,
    model: context.model,
    ...status,
    output,
    usage,
    ...context.echo,
  }
}

/** A complete `response` object. */
export function toResponsesObject(
  answer: CanonicalResponse,
  context: ResponsesAnswerContext,
): Record<string, unknown> {
  if (answer.native?.dialect === 'openai-responses') return { ...answer.native.body, model: context.model }
  const output: Record<string, unknown>[] = []
  if (answer.reasoning !== undefined) {
    output.push({
      type: 'reasoning',
      id: `rs_${context.itemId()}`,
      summary: [{ type: 'summary_text', text: answer.reasoning }],
    })
  }
  const content: Record<string, unknown>[] = []
  if (answer.content !== '') {
    content.push({
      type: 'output_text',
      text: answer.content,
      annotations: (answer.citations ?? []).map(toResponsesAnnotation),
    })
  }
  if (answer.refusal !== undefined) content.push({ type: 'refusal', refusal: answer.refusal })
  if (content.length > 0) {
    output.push({
      type: 'message',
      id: `msg_${context.itemId()}`,
      status: 'completed',
      role: 'assistant',
      content,
    })
  }
  for (const call of answer.toolCalls) {
    output.push({
      type: 'function_call',
      id: `fc_${context.itemId()}`,
      call_id: call.id,
      name: call.name,
      arguments: call.arguments,
      status: 'completed',
    })
  }
  return responseObject(context, output, statusOf(answer.finishReason), toResponsesUsage(answer.usage))
}

/** The output item being streamed. */
type OpenItem =
  | { kind: 'reasoning'; item: Record<string, unknown>; text: string }
  | {
      kind: 'message'
      item: Record<string, unknown>
      text: string
      refusal: string
      part: 'text' | 'refusal'
      annotations: Record<string, unknown>[]
    }
  | { kind: 'call'; item: Record<string, unknown>; index: number; arguments: string }

/** Writes one canonical stream as Responses events; create one per request. */
export class ResponsesEventEncoder implements GatewayStreamWriter {
  readonly #context: ResponsesAnswerContext
  readonly #output: Record<string, unknown>[] = []
  /** Canonical indexes of the tool calls whose item is done. */
  readonly #closedCalls = new Set<number>()
  #sequence = 0
  #open: OpenItem | undefined
  #usage: Usage | undefined
  #started = false
  #finished = false
  /** Decided by the first chunk: a same-dialect provider's own events are relayed as they came. */
  #native: boolean | undefined

  constructor(context: ResponsesAnswerContext) {
    this.#context = context
  }

  get finished(): boolean {
    return this.#finished
  }

  push(chunk: StreamChunk): StreamEvent[] {
    this.#native ??= chunk.type === 'native' && chunk.dialect === 'openai-responses'
    if (this.#native) return this.#relay(chunk)
    const events: StreamEvent[] = []
    if (!this.#started) {
      this.#started = true
      const response = responseObject(this.#context, [], { status: 'in_progress', error: null }, null)
      events.push(this.#event('response.created', { response }))
      events.push(this.#event('response.in_progress', { response }))
    }
    switch (chunk.type) {
      case 'native':
        return events
      case 'reasoning-delta':
        this.#reasoning(events, chunk.text)
        return events
      case 'text-delta':
        if (chunk.text !== '') this.#text(events, chunk.text, 'text')
        return events
      case 'refusal-delta':
        if (chunk.text !== '') this.#text(events, chunk.text, 'refusal')
        return events
      case 'citation':
        this.#annotation(events, chunk.citation)
        return events
      case 'tool-call-delta':
        this.#toolCall(events, chunk)
        return events
      case 'usage':
        this.#usage = chunk.usage
        return events
      case 'finish': {
        this.#close(events)
        this.#finished = true
        const response = responseObject(
          this.#context,
          this.#output,
          statusOf(chunk.finishReason),
          toResponsesUsage(this.#usage),
        )
        events.push(this.#event(terminalEvent(chunk.finishReason), { response }))
        return events
      }
      case 'error':
        throw chunk.error
    }
  }

  /** Native mode: the provider's events under the public model name. */
  #relay(chunk: StreamChunk): StreamEvent[] {
    if (chunk.type === 'finish') this.#finished = true
    if (chunk.type === 'error') throw chunk.error
    if (chunk.type !== 'native') return []
    const data: Record<string, unknown> = { ...chunk.event.data }
    const response = data.response
    if (typeof response === 'object' && response !== null) {
      data.response = { ...response, model: this.#context.model }
    }
    return [{ ...(chunk.event.name === undefined ? {} : { name: chunk.event.name }), data }]
  }

  #reasoning(events: StreamEvent[], text: string): void {
    if (this.#open?.kind !== 'reasoning') {
      this.#close(events)
      const item = { type: 'reasoning', id: `rs_${this.#context.itemId()}`, summary: [] }
      this.#open = { kind: 'reasoning', item, text: '' }
      events.push(this.#event('response.output_item.added', { output_index: this.#output.length, item }))
      events.push(
        this.#event('response.reasoning_summary_part.added', {
          ...this.#where(item),
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        }),
      )
    }
    const open = this.#open as Extract<OpenItem, { kind: 'reasoning' }>
    open.text += text
    events.push(
      this.#event('response.reasoning_summary_text.delta', {
        ...this.#where(open.item),
        summary_index: 0,
        delta: text,
      }),
    )
  }

  #text(events: StreamEvent[], text: string, part: 'text' | 'refusal'): void {
    let open = this.#open
    if (open?.kind !== 'message') {
      this.#close(events)
      const item = {
        type: 'message',
        id: `msg_${this.#context.itemId()}`,
        status: 'in_progress',
        role: 'assistant',
        content: [],
      }
      open = { kind: 'message', item, text: '', refusal: '', part, annotations: [] }
      this.#open = open
      events.push(this.#event('response.output_item.added', { output_index: this.#output.length, item }))
      events.push(this.#partEvent('response.content_part.added', open, part, ''))
    } else if (open.part !== part) {
      this.#closePart(events, open)
      open.part = part
      events.push(this.#partEvent('response.content_part.added', open, part, ''))
    }
    if (text === '') return
    if (part === 'text') open.text += text
    else open.refusal += text
    const type = part === 'text' ? 'response.output_text.delta' : 'response.refusal.delta'
    events.push(
      this.#event(type, {
        ...this.#where(open.item),
        content_index: this.#contentIndex(open),
        delta: text,
        ...(part === 'text' ? { logprobs: [] } : {}),
      }),
    )
  }

  #annotation(events: StreamEvent[], citation: Citation): void {
    if (this.#open?.kind !== 'message' || this.#open.part !== 'text') this.#text(events, '', 'text')
    const open = this.#open as Extract<OpenItem, { kind: 'message' }>
    const annotation = toResponsesAnnotation(citation)
    events.push(
      this.#event('response.output_text.annotation.added', {
        ...this.#where(open.item),
        content_index: this.#contentIndex(open),
        annotation_index: open.annotations.length,
        annotation,
      }),
    )
    open.annotations.push(annotation)
  }

  #toolCall(events: StreamEvent[], chunk: Extract<StreamChunk, { type: 'tool-call-delta' }>): void {
    let open = this.#open
    if (open?.kind !== 'call' || open.index !== chunk.index) {
      if (this.#closedCalls.has(chunk.index)) {
        // Its item is done, with the arguments so far: a second item would split one call in two.
        throw new ContinuumError(
          'CONTINUUM_UPSTREAM_PROTOCOL_ERROR',
          'The provider interleaved tool calls, which the Responses stream cannot carry',
        )
      }
      this.#close(events)
      const item = {
        type: 'function_call',
        id: `fc_${this.#context.itemId()}`,
        call_id: chunk.id ?? `call_${this.#context.itemId()}`,
        name: chunk.name ?? '',
        arguments: '',
        status: 'in_progress',
      }
      open = { kind: 'call', item, index: chunk.index, arguments: '' }
      this.#open = open
      events.push(this.#event('response.output_item.added', { output_index: this.#output.length, item }))
    }
    if (chunk.argumentsDelta === '') return
    open.arguments += chunk.argumentsDelta
    events.push(
      this.#event('response.function_call_arguments.delta', {
        ...this.#where(open.item),
        delta: chunk.argumentsDelta,
      }),
    )
  }

  #contentIndex(open: Extract<OpenItem, { kind: 'message' }>): number {
    return open.part === 'refusal' && open.text !== '' ? 1 : 0
  }

  #partOf(open: Extract<OpenItem, { kind: 'message' }>, part: 'text' | 'refusal'): Record<string, unknown> {
    return part === 'text'
      ? { type: 'output_text', text: open.text, annotations: open.annotations }
      : { type: 'refusal', refusal: open.refusal }
  }

  #partEvent(
    type: string,
    open: Extract<OpenItem, { kind: 'message' }>,
    part: 'text' | 'refusal',
    empty: '' | undefined,
  ): StreamEvent {
    const value =
      empty === ''
        ? part === 'text'
          ? { type: 'output_text', text: '', annotations: [] }
          : { type: 'refusal', refusal: '' }
        : this.#partOf(open, part)
    return this.#event(type, {
      ...this.#where(open.item),
      content_index: this.#contentIndex(open),
      part: value,
    })
  }

  #closePart(events: StreamEvent[], open: Extract<OpenItem, { kind: 'message' }>): void {
    const index = this.#contentIndex(open)
    if (open.part === 'text') {
      events.push(
        this.#event('response.output_text.done', {
          ...this.#where(open.item),
          content_index: index,
          text: open.text,
          logprobs: [],
        }),
      )
    } else {
      events.push(
        this.#event('response.refusal.done', {
          ...this.#where(open.item),
          content_index: index,
          refusal: open.refusal,
        }),
      )
    }
    events.push(this.#partEvent('response.content_part.done', open, open.part, undefined))
  }

  /** Closes the open item: its done events, then `response.output_item.done` with the whole item. */
  #close(events: StreamEvent[]): void {
    const open = this.#open
    if (open === undefined) return
    this.#open = undefined
    let item: Record<string, unknown>
    if (open.kind === 'reasoning') {
      const part = { type: 'summary_text', text: open.text }
      events.push(
        this.#event('response.reasoning_summary_text.done', {
          ...this.#where(open.item),
          summary_index: 0,
          text: open.text,
        }),
        this.#event('response.reasoning_summary_part.done', {
          ...this.#where(open.item),
          summary_index: 0,
          part,
        }),
      )
      item = { ...open.item, summary: [part] }
    } else if (open.kind === 'message') {
      this.#closePart(events, open)
      const content: Record<string, unknown>[] = []
      if (open.text !== '') content.push(this.#partOf(open, 'text'))
      if (open.refusal !== '') content.push(this.#partOf(open, 'refusal'))
      item = { ...open.item, status: 'completed', content }
    } else {
      this.#closedCalls.add(open.index)
      events.push(
        this.#event('response.function_call_arguments.done', {
          ...this.#where(open.item),
          arguments: open.arguments,
        }),
      )
      item = { ...open.item, arguments: open.arguments, status: 'completed' }
    }
    events.push(this.#event('response.output_item.done', { output_index: this.#output.length, item }))
    this.#output.push(item)
  }

  #where(item: Record<string, unknown>): Record<string, unknown> {
    return { item_id: item.id, output_index: this.#output.length }
  }

  #event(type: string, data: Record<string, unknown>): StreamEvent {
    return { name: type, data: { type, sequence_number: this.#sequence++, ...data } }
  }
}
