/** Stream framing shared by adapters, providers and the client: SSE and NDJSON. */
export { LineDecoder, type LineSplitterOptions, splitLines } from './line-splitter'
export { formatNdjson, NdjsonDecoder, parseNdjson, parseNdjsonLine } from './ndjson'
export { formatSse, parseSse, SseDecoder, type SseDecoderOptions, type SseEvent } from './sse'
