/**
 * The router gateway's codecs for the OpenAI protocol: chat completions and the Responses API
 * (complete and streamed), embeddings, and the model list, each turning the decrypted body into a canonical call and the
 * router's answer back into OpenAI's shapes. Loaded by the routes only when the gateway serves them.
 */
import type {
  GatewayAnswerContext,
  GatewayChatCodec,
  GatewayEmbeddingCodec,
  GatewayModelCodec,
  GatewayModelListCodec,
} from '../../../src/index'
import { fromOpenAIChatRequest, fromOpenAIEmbeddingRequest } from './request'
import {
  toOpenAIChatResponse,
  toOpenAIEmbeddingResponse,
  toOpenAIError,
  toOpenAIModel,
  toOpenAIModelList,
} from './response'
import { fromResponsesRequest } from './responses-request'
import { type ResponsesAnswerContext, ResponsesEventEncoder, toResponsesObject } from './responses-response'
import { OpenAIChunkEncoder } from './stream'

/** Request parameters a Responses object repeats, as OpenAI's does. */
const RESPONSES_ECHO = [
  'instructions',
  'max_output_tokens',
  'parallel_tool_calls',
  'temperature',
  'top_p',
  'tool_choice',
  'tools',
  'text',
  'reasoning',
  'metadata',
] as const

/** `POST /v1/chat/completions`. */
export const chatCodec: GatewayChatCodec = {
  kind: 'chat',
  decode(body) {
    const chat = fromOpenAIChatRequest(body)
    return {
      request: chat.request,
      stream: chat.stream,
      response: (answer, context) =>
        toOpenAIChatResponse(answer, context.model, context.created) as unknown as Record<string, unknown>,
      writer: (context) =>
        new OpenAIChunkEncoder({
          id: `chatcmpl-${context.id()}`,
          model: context.model,
          created: context.created,
          includeUsage: chat.includeUsage,
        }),
    }
  },
  error: toOpenAIError,
}

/** `POST /v1/responses`. */
export const responsesCodec: GatewayChatCodec = {
  kind: 'chat',
  decode(body) {
    const decoded = fromResponsesRequest(body)
    const echo: Record<string, unknown> = {}
    for (const key of RESPONSES_ECHO) if (body[key] !== undefined) echo[key] = body[key]
    const context = (answer: GatewayAnswerContext): ResponsesAnswerContext => ({
      id: `resp_${answer.id()}`,
      model: answer.model,
      created: answer.created,
      itemId: answer.id,
      echo,
    })
    return {
      request: decoded.request,
      stream: decoded.stream,
      response: (answer, answerContext) => toResponsesObject(answer, context(answerContext)),
      writer: (answerContext) => new ResponsesEventEncoder(context(answerContext)),
    }
  },
  error: toOpenAIError,
}

/** `POST /v1/embeddings`. */
export const embeddingCodec: GatewayEmbeddingCodec = {
  kind: 'embeddings',
  decode(body) {
    const embedding = fromOpenAIEmbeddingRequest(body)
    return {
      request: embedding.request,
      response: (answer, context) => toOpenAIEmbeddingResponse(answer, context.model, embedding.encoding),
    }
  },
  error: toOpenAIError,
}

/** `GET /v1/models`. */
export const modelListCodec: GatewayModelListCodec = {
  kind: 'model-list',
  list: toOpenAIModelList,
  error: toOpenAIError,
}

/** `GET /v1/models/{model}`. */
export const modelCodec: GatewayModelCodec = { kind: 'model', model: toOpenAIModel, error: toOpenAIError }
