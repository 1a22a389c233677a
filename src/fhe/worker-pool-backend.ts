/**
 * The default FheBackend: a pool of worker threads, each with its own SEAL context (created once)
 * and its own copy of the encoded matrices, so CKKS work never blocks the event loop. A product is
 * split into units (result block × contiguous range of giant steps) spread over the least-busy
 * workers, and the partial results of a block are summed on one of them. Evaluation keys are sent
 * to a worker the first time it needs them and dropped everywhere when the service's cache evicts
 * them; a product under dropped keys is refused, never loads them again. A worker that dies fails
 * its in-flight jobs with `CONTINUUM_FHE_WORKER_FAILED` and is replaced, with the stored matrices
 * replayed into the new thread.
 */
import { existsSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ContinuumError } from '../errors'
import type { EvaluateRequest, FheBackend } from './backend'
import { planLayout } from './layout'
import type { ResolvedCkksParameters } from './params'
import type { EvaluationKeyBytes, MatrixSpec } from './seal-evaluator'
import type { WorkerReply, WorkerRequest, WorkerStartData } from './worker-protocol'

/** Options of {@link WorkerPoolBackend}. */
export interface WorkerPoolBackendOptions {
  /** The validated parameter set. */
  parameters: ResolvedCkksParameters
  /**
   * Worker threads; each holds one SEAL context and a copy of every stored matrix.
   * @default min(4, os.availableParallelism())
   */
  workers?: number
  /**
   * Script of the worker thread. The default is `fhe-worker.js` next to the bundle, or
   * `worker-entry.ts` when running from source (types stripped by Node where it can, else through tsx).
   * @default resolved next to this module
   */
  workerUrl?: URL
}

type Pending = { resolve: (value: Uint8Array | undefined) => void; reject: (error: ContinuumError) => void }
type RequestBody = WorkerRequest extends infer Request
  ? Request extends { id: number }
    ? Omit<Request, 'id'>
    : never
  : never

interface PoolWorker {
  thread: Worker
  readonly pending: Map<number, Pending>
  readonly keyTags: Set<string>
}

/** Finds the worker script: the built one next to the bundle, else the TypeScript source. */
function resolveWorkerScript(explicit: URL | undefined): { url: URL; execArgv: string[] } {
  if (explicit !== undefined)
    return { url: explicit, execArgv: explicit.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [] }
  const built = new URL('./fhe-worker.js', import.meta.url)
  if (existsSync(fileURLToPath(built))) return { url: built, execArgv: [] }
  const source = new URL('./worker-entry.ts', import.meta.url)
  if (existsSync(fileURLToPath(source))) {
    // Node strips the types itself where it can (22.18 on): a worker then starts for about 0.2
    // CPU-s less than through tsx, whose loader runs on a thread of its own in every worker.
    if (
      (process.features as { typescript?: unknown }).typescript &&
      typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function'
    )
      return { url: new URL('./worker-source-entry.mjs', import.meta.url), execArgv: [] }
    return { url: source, execArgv: ['--import', 'tsx'] }
  }
  throw new ContinuumError(
    'CONTINUUM_INVALID_OPTIONS',
    'WorkerPoolBackend: cannot find the FHE worker script; pass workerUrl',
  )
}

/** A pool of CKKS worker threads behind the {@link FheBackend} contract. */
export class WorkerPoolBackend implements FheBackend {
  readonly specificationVersion = 'v1' as const
  readonly parameters: ResolvedCkksParameters
  readonly #workers: PoolWorker[] = []
  readonly #matrices = new Map<string, MatrixSpec>()
  /**
   * Tags loaded and not dropped since. A product can reach the pool after the service dropped its
   * keys (it picked them up before a DELETE, then awaited the shared store): sending them to the
   * workers again would load them for good, since nothing drops a tag twice.
   */
  readonly #liveKeys = new Set<string>()
  readonly #script: { url: URL; execArgv: string[] }
  #nextId = 1
  #closed = false

  constructor(options: WorkerPoolBackendOptions) {
    const count = options.workers ?? Math.min(4, availableParallelism())
    if (!Number.isInteger(count) || count < 1 || count > 64) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'WorkerPoolBackend: workers must be an integer from 1 to 64',
      )
    }
    this.parameters = options.parameters
    this.#script = resolveWorkerScript(options.workerUrl)
    for (let index = 0; index < count; index++) this.#workers.push(this.#spawn())
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length
  }

  #spawn(): PoolWorker {
    const startData: WorkerStartData = { parameters: this.parameters }
    const thread = new Worker(this.#script.url, { workerData: startData, execArgv: this.#script.execArgv })
    const worker: PoolWorker = { thread, pending: new Map(), keyTags: new Set() }
    thread.on('message', (reply: WorkerReply) => {
      const pending = worker.pending.get(reply.id)
      if (pending === undefined) return
      worker.pending.delete(reply.id)
      if (reply.ok) pending.resolve(reply.value)
      else
        pending.reject(
          new ContinuumError(reply.error.code, reply.error.message, { details: reply.error.details }),
        )
    })
    const failed = () => this.#replace(worker)
    thread.once('error', failed)
    thread.once('exit', failed)
    thread.unref()
    return worker
  }

  /** Fails a dead worker's jobs and starts a replacement with the stored matrices. */
  #replace(worker: PoolWorker): void {
    const index = this.#workers.indexOf(worker)
    if (index < 0) return
    for (const pending of worker.pending.values()) {
      pending.reject(
        new ContinuumError('CONTINUUM_FHE_WORKER_FAILED', 'The FHE worker thread exited during the job'),
      )
    }
    worker.pending.clear()
    if (this.#closed) return
    const replacement = this.#spawn()
    this.#workers[index] = replacement
    for (const [matrixId, spec] of this.#matrices) {
      this.#send(replacement, { type: 'setMatrix', matrixId, spec }).catch(() => {})
    }
  }

  #send(worker: PoolWorker, body: RequestBody): Promise<Uint8Array | undefined> {
    if (this.#closed)
      return Promise.reject(new ContinuumError('CONTINUUM_FHE_WORKER_FAILED', 'The FHE backend is closed'))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      worker.pending.set(id, { resolve, reject })
      worker.thread.ref()
      worker.thread.postMessage({ ...body, id } as WorkerRequest)
    }).finally(() => {
      if (worker.pending.size === 0) worker.thread.unref()
    }) as Promise<Uint8Array | undefined>
  }

  #leastBusy(): PoolWorker {
    let best = this.#workers[0]!
    for (const worker of this.#workers) if (worker.pending.size < best.pending.size) best = worker
    return best
  }

  /** Sends keys to `worker` first if it does not hold them yet (messages to one worker run in order). */
  #ensureKeys(worker: PoolWorker, keyTag: string, keys: EvaluationKeyBytes): void {
    if (worker.keyTags.has(keyTag)) return
    worker.keyTags.add(keyTag)
    this.#send(worker, { type: 'loadKeys', keyTag, keys }).catch(() => worker.keyTags.delete(keyTag))
  }

  async loadEvaluationKeys(keyTag: string, keys: EvaluationKeyBytes): Promise<void> {
    const worker = this.#leastBusy()
    await this.#send(worker, { type: 'loadKeys', keyTag, keys })
    worker.keyTags.add(keyTag)
    this.#liveKeys.add(keyTag)
  }

  async dropEvaluationKeys(keyTag: string): Promise<void> {
    this.#liveKeys.delete(keyTag)
    await Promise.all(
      this.#workers
        .filter((worker) => worker.keyTags.delete(keyTag))
        .map((worker) => this.#send(worker, { type: 'dropKeys', keyTag })),
    )
  }

  async setMatrix(matrixId: string, spec: MatrixSpec): Promise<void> {
    await Promise.all(
      this.#workers.map((worker) => this.#send(worker, { type: 'setMatrix', matrixId, spec })),
    )
    this.#matrices.set(matrixId, spec)
  }

  async dropMatrix(matrixId: string): Promise<void> {
    this.#matrices.delete(matrixId)
    await Promise.all(this.#workers.map((worker) => this.#send(worker, { type: 'dropMatrix', matrixId })))
  }

  async evaluate(request: EvaluateRequest): Promise<Uint8Array[]> {
    const spec = this.#matrices.get(request.matrixId)
    if (spec === undefined || !spec.modes.includes(request.mode)) {
      throw new ContinuumError(
        'CONTINUUM_FHE_COLLECTION_UNKNOWN',
        `Matrix "${request.matrixId}" is not registered for ${request.mode} layout`,
      )
    }
    if (!this.#liveKeys.has(request.keyTag)) {
      throw new ContinuumError('CONTINUUM_FHE_KEYS_UNKNOWN', 'No evaluation keys are loaded for this key id')
    }
    const layout = planLayout(spec.rows, spec.dimension, this.parameters.slotCount, request.mode)
    const chunks = Math.min(this.#workers.length, layout.giantSteps)
    const { keyTag, keys, matrixId, mode, input, compression } = request
    return Promise.all(
      Array.from({ length: layout.blocks }, async (_, block) => {
        const units = Array.from({ length: chunks }, (_, chunk) => {
          const giantStart = Math.floor((chunk * layout.giantSteps) / chunks)
          const giantEnd = Math.floor(((chunk + 1) * layout.giantSteps) / chunks)
          const worker = this.#leastBusy()
          this.#ensureKeys(worker, keyTag, keys)
          const unit = { keyTag, matrixId, mode, input, block, giantStart, giantEnd, finalize: chunks === 1 }
          return this.#send(worker, {
            type: 'unit',
            request: { ...unit, compression: chunks === 1 ? compression : 'none' },
          })
        })
        const partials = (await Promise.all(units)) as Uint8Array[]
        if (chunks === 1) return partials[0]!
        const combined = await this.#send(this.#leastBusy(), {
          type: 'combine',
          request: { matrixId, mode, block, partials, compression },
        })
        return combined as Uint8Array
      }),
    )
  }

  async close(): Promise<void> {
    this.#closed = true
    // Ref first: with idle (unref'd) threads the event loop could empty before terminate() settles.
    await Promise.all(
      this.#workers.map((worker) => {
        worker.thread.ref()
        return worker.thread.terminate()
      }),
    )
  }
}
