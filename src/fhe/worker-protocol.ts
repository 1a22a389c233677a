/**
 * Messages between the worker pool and its CKKS worker threads. Errors cross the thread boundary
 * as plain `{code, message, details}` objects and become ContinuumErrors again on the main thread.
 */
import type { ErrorCode } from '../errors'
import type { CombineRequest, EvaluationKeyBytes, MatrixSpec, UnitRequest } from './seal-evaluator'

/** A request to a worker; `id` pairs it with its reply. */
export type WorkerRequest =
  | {
      readonly id: number
      readonly type: 'loadKeys'
      readonly keyTag: string
      readonly keys: EvaluationKeyBytes
    }
  | { readonly id: number; readonly type: 'dropKeys'; readonly keyTag: string }
  | { readonly id: number; readonly type: 'setMatrix'; readonly matrixId: string; readonly spec: MatrixSpec }
  | { readonly id: number; readonly type: 'dropMatrix'; readonly matrixId: string }
  | { readonly id: number; readonly type: 'unit'; readonly request: UnitRequest }
  | { readonly id: number; readonly type: 'combine'; readonly request: CombineRequest }

/** A worker's reply. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value?: Uint8Array }
  | {
      readonly id: number
      readonly ok: false
      readonly error: {
        readonly code: ErrorCode
        readonly message: string
        readonly details?: Record<string, unknown>
      }
      /** The WASM runtime broke; the worker exits after replying. */
      readonly fatal: boolean
    }

/** What a worker is started with. */
export interface WorkerStartData {
  readonly parameters: import('./params').ResolvedCkksParameters
}
