/**
 * Loads the stream path (stream-path.ts) on the first streamed response, so a proxy that only
 * answers JSON never parses it. Every caller of a burst shares one import; a failed import is
 * tried again by the next response rather than failing every later stream (loadOnce). Once
 * loaded, the module is handed out synchronously, so a stream costs no extra promise.
 */
import { loadOnce } from '../protocol/load-once'

/** The stream path's exports. */
export type StreamPath = typeof import('./stream-path')

let loaded: StreamPath | undefined

const load = loadOnce(async () => {
  loaded = await import('./stream-path')
  return loaded
})

/** The stream path: the module itself once loaded, otherwise the promise of it. */
export function streamPath(): StreamPath | Promise<StreamPath> {
  return loaded ?? load()
}

/** Whether the stream path is loaded (for tests of what a proxy loads when). */
export function streamPathLoaded(): boolean {
  return loaded !== undefined
}
