/**
 * The CKKS worker thread: one SEAL context, created once when the thread starts, and one
 * SealEvaluator holding loaded keys and encoded matrices. Messages run strictly in arrival order.
 * Every failure is answered as an error reply, never thrown, so bad input cannot crash the thread;
 * only a broken WASM runtime (abort, out of memory) makes the thread exit, and the pool replaces it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ContinuumError, toContinuumError } from '../errors'
import { SealEvaluator } from './seal-evaluator'
import { isFatalWasmError, sealFailure } from './seal-runtime'
import type { WorkerReply, WorkerRequest, WorkerStartData } from './worker-protocol'

const port = parentPort
if (port === null) throw new Error('worker-entry must run in a worker thread')

const { parameters } = workerData as WorkerStartData
const ready = SealEvaluator.create(parameters)
let queue: Promise<unknown> = ready

function handle(evaluator: SealEvaluator, message: WorkerRequest): Uint8Array | undefined {
  switch (message.type) {
    case 'loadKeys':
      evaluator.loadEvaluationKeys(message.keyTag, message.keys)
      return undefined
    case 'dropKeys':
      evaluator.dropEvaluationKeys(message.keyTag)
      return undefined
    case 'setMatrix':
      evaluator.setMatrix(message.matrixId, message.spec)
      return undefined
    case 'dropMatrix':
      evaluator.dropMatrix(message.matrixId)
      return undefined
    case 'unit':
      return evaluator.runUnit(message.request)
    case 'combine':
      return evaluator.combine(message.request)
  }
}

port.on('message', (message: WorkerRequest) => {
  queue = queue.then(async () => {
    let reply: WorkerReply
    let fatal = false
    try {
      const value = handle(await ready, message)
      reply = { id: message.id, ok: true, ...(value === undefined ? {} : { value }) }
    } catch (thrown) {
      fatal = isFatalWasmError(thrown)
      const error = ContinuumError.isInstance(thrown)
        ? thrown
        : toContinuumError(sealFailure(thrown, 'CONTINUUM_FHE_OPERATION_FAILED', 'CKKS operation'))
      reply = {
        id: message.id,
        ok: false,
        fatal,
        error: {
          code: error.code,
          message: error.message,
          ...(error.details ? { details: { ...error.details } } : {}),
        },
      }
    }
    const transfer = reply.ok && reply.value !== undefined ? [reply.value.buffer as ArrayBuffer] : []
    port.postMessage(reply, transfer)
    if (fatal) process.exit(1)
  })
})
