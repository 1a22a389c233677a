/** Stream framing shared by adapters, providers and the client: SSE and NDJSON. */
export { type LineSplitterOptions, splitLines } from './line-splitter'
export { formatNdjson, parseNdjson } from './ndjson'
export { formatSse, parseSse, type SseEvent } from './sse'
