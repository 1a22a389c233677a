/** State stores: the interface and the in-memory default. */

export { MemoryStateStore, type MemoryStateStoreOptions } from './memory-state-store'
export type { StateStore } from './state-store'
