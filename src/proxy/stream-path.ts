/**
 * The stream path, as one module loaded on the first streamed response (stream-path-loader.ts):
 * decoding an upstream's SSE or NDJSON stream into events, and sealing and framing events for the
 * client. A proxy that only answers JSON never loads it.
 */
export { EventStreamBody } from './event-stream-body'
export { FrameWriter } from './frame-writer'
export { claimRawEvents, DecodedEvents } from './stream-events'
