/**
 * The router gateway's codecs for the OpenAI protocol: chat completions and the Responses API
 * (complete and streamed), embeddings, and the model list, each turning the decrypted body into a canonical call and the
 * router's answer back into OpenAI's shapes. Loaded by the routes only when the gateway serves them.
 */
import type {
  CanonicalResponse,
  GatewayAnswerContext,
  GatewayChatCall,
  GatewayChatCodec,
  GatewayEmbeddingCodec,
  GatewayModelCodec,
  GatewayModelListCodec,
} from '../../../src/index'
import { fromOpenAIChatRequest, fromOpenAIEmbeddingRequest, type OpenAIGatewayChat } from './request'
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

/** One decoded chat completions request; a class, so a request makes no closures. */
class ChatCall implements GatewayChatCall {
  readonly request: OpenAIGatewayChat['request']
  readonly stream: boolean
  readonly #includeUsage: boolean

  constructor(chat: OpenAIGatewayChat) {
    this.request = chat.request
    this.stream = chat.stream
    this.#includeUsage = chat.includeUsage
  }

  response(answer: CanonicalResponse, context: GatewayAnswerContext): Record<string, unknown> {
    return toOpenAIChatResponse(answer, context.model, context.created) as unknown as Record<string, unknown>
  }

  writer(context: GatewayAnswerContext): OpenAIChunkEncoder {
    return new OpenAIChunkEncoder({
      id: `chatcmpl-${context.id()}`,
      model: context.model,
      created: context.created,
      includeUsage: this.#includeUsage,
    })
  }
}

/** `POST /v1/chat/completions`. */
export const chatCodec: GatewayChatCodec = {
  kind: 'chat',
  decode: (body) => new ChatCall(fromOpenAIChatRequest(body)),
  error: toOpenAIError,
}

/** One decoded Responses API request, with the request parameters its answer repeats. */
class ResponsesCall implements GatewayChatCall {
  readonly request: GatewayChatCall['request']
  readonly stream: boolean
  readonly #echo: Record<string, unknown> = {}

  constructor(body: Record<string, unknown>) {
    const decoded = fromResponsesRequest(body)
    this.request = decoded.request
    this.stream = decoded.stream
    for (const key of RESPONSES_ECHO) if (body[key] !== undefined) this.#echo[key] = body[key]
  }

  response(answer: CanonicalResponse, context: GatewayAnswerContext): Record<string, unknown> {
    return toResponsesObject(answer, this.#context(context))
  }

  writer(context: GatewayAnswerContext): ResponsesEventEncoder {
    return new ResponsesEventEncoder(this.#context(context))
  }

  #context(answer: GatewayAnswerContext): ResponsesAnswerContext {
    return {
      id: `resp_${answer.id()}`,
      model: answer.model,
      created: answer.created,
      itemId: answer.id,
      echo: this.#echo,
    }
  }
}

/** `POST /v1/responses`. */
export const responsesCodec: GatewayChatCodec = {
  kind: 'chat',
  decode: (body) => new ResponsesCall(body),
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
