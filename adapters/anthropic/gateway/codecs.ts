/**
 * The router gateway's codecs for the Anthropic protocol: Messages (complete and streamed) and
 * the model list the Anthropic SDK reads (selected by its `anthropic-version` header). Loaded by
 * the routes only when the gateway serves them.
 */
import type {
  CanonicalResponse,
  GatewayAnswerContext,
  GatewayChatCall,
  GatewayChatCodec,
  GatewayModelCodec,
  GatewayModelListCodec,
  GatewayTokenCountCodec,
} from '../../../src/index'
import { fromAnthropicRequest } from './request'
import { toAnthropicError, toAnthropicModel, toAnthropicModelList, toAnthropicResponse } from './response'
import { AnthropicEventEncoder } from './stream'

/** One decoded Messages request; a class, so a request makes no closures. */
class MessagesCall implements GatewayChatCall {
  readonly request: GatewayChatCall['request']
  readonly stream: boolean

  constructor(body: Record<string, unknown>) {
    const messages = fromAnthropicRequest(body)
    this.request = messages.request
    this.stream = messages.stream
  }

  response(answer: CanonicalResponse, context: GatewayAnswerContext): Record<string, unknown> {
    return toAnthropicResponse(answer, context.model) as unknown as Record<string, unknown>
  }

  writer(context: GatewayAnswerContext): AnthropicEventEncoder {
    return new AnthropicEventEncoder({ id: `msg_${context.id()}`, model: context.model })
  }
}

/** `POST /v1/messages`. */
export const messagesCodec: GatewayChatCodec = {
  kind: 'chat',
  decode: (body) => new MessagesCall(body),
  error: toAnthropicError,
}

/** `POST /v1/messages/count_tokens`: counted by an Anthropic provider, refused by the others. */
export const countTokensCodec: GatewayTokenCountCodec = {
  kind: 'count-tokens',
  decode(body) {
    const { request } = fromAnthropicRequest(body)
    return { request, response: (answer) => ({ input_tokens: answer.inputTokens }) }
  },
  error: toAnthropicError,
}

/** `GET /v1/models` with `anthropic-version`. */
export const modelListCodec: GatewayModelListCodec = {
  kind: 'model-list',
  list: toAnthropicModelList,
  error: toAnthropicError,
}

/** `GET /v1/models/{model}` with `anthropic-version`. */
export const modelCodec: GatewayModelCodec = {
  kind: 'model',
  model: toAnthropicModel,
  error: toAnthropicError,
}
