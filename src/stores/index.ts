/** State stores: the interface and the in-memory default. */

export { MemoryStateStore, type MemoryStateStoreOptions } from './memory-state-store'
export type { StateStore, StoreCharge, StoreChargeResult } from './state-store'
export { STORE_DIAGNOSTICS_CHANNEL, type StoreConsumer, type StoreFailureEvent } from './store-failure'
