/** State stores: the interface and the in-memory default. */
export type { StateStore } from './state-store'
export { MemoryStateStore, type MemoryStateStoreOptions } from './memory-state-store'
