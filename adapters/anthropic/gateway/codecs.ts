/**
 * The router gateway's codecs for the Anthropic protocol: Messages (complete and streamed) and
 * the model list the Anthropic SDK reads (selected by its `anthropic-version` header). Loaded by
 * the routes only when the gateway serves them.
 */
import type {
  GatewayChatCodec,
  GatewayModelCodec,
  GatewayModelListCodec,
  GatewayTokenCountCodec,
} from '../../../src/index'
import { fromAnthropicRequest } from './request'
import { toAnthropicError, toAnthropicModel, toAnthropicModelList, toAnthropicResponse } from './response'
import { AnthropicEventEncoder } from './stream'

/** `POST /v1/messages`. */
export const messagesCodec: GatewayChatCodec = {
  kind: 'chat',
  decode(body) {
    const messages = fromAnthropicRequest(body)
    return {
      request: messages.request,
      stream: messages.stream,
      response: (answer, context) =>
        toAnthropicResponse(answer, context.model) as unknown as Record<string, unknown>,
      writer: (context) => new AnthropicEventEncoder({ id: `msg_${context.id()}`, model: context.model }),
    }
  },
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
