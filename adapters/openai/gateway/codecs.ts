/**
 * The router gateway's codecs for the OpenAI protocol: chat completions (complete and streamed),
 * embeddings, and the model list, each turning the decrypted body into a canonical call and the
 * router's answer back into OpenAI's shapes. Loaded by the routes only when the gateway serves them.
 */
import type {
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
import { OpenAIChunkEncoder } from './stream'

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
