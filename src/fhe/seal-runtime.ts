/**
 * One node-seal runtime per thread and one SEAL context per parameter set, shared while held. node-seal
 * 7 throws WebAssembly exceptions whose `message` is a `[type, text]` pair (or bare numbers from
 * older builds); `sealFailure` turns any of them into a ContinuumError with a code, keeping SEAL's
 * reason (never a value) in the message.
 */

import type { CKKSEncoder, Evaluator, MainModule, SEALContext } from 'node-seal'
import { ContinuumError, type ErrorCode } from '../errors'
import { importOptionalDependency } from '../internal/optional-dependency'
import type { ResolvedCkksParameters } from './params'

let runtime: Promise<MainModule> | undefined

/**
 * The node-seal runtime of this thread, loaded on first use. node-seal is an optional peer and
 * ESM-only (its exports have no require condition), so it is imported natively from an ES module
 * in both builds, which keeps `require('continuum-proxy/fhe')` working; without it the first use
 * throws CONTINUUM_DEPENDENCY_MISSING.
 */
export function loadSeal(): Promise<MainModule> {
  runtime ??= importOptionalDependency<typeof import('node-seal')>('node-seal', 'continuum-proxy/fhe').then(
    (module) => module.default(),
  )
  return runtime
}

/** A SEAL context with the objects every operation needs, for one parameter set. */
export interface SealContext {
  readonly seal: MainModule
  readonly parameters: ResolvedCkksParameters
  readonly context: SEALContext
  readonly encoder: CKKSEncoder
  readonly evaluator: Evaluator
  /** Lets go of the context: the last holder of the thread releases its SEAL objects. */
  dispose(): void
}

/** A built context and how many callers hold it. */
interface SharedContext {
  readonly built: Promise<Omit<SealContext, 'parameters'>>
  users: number
}

/** The contexts of this thread by parameter fingerprint, each while someone holds it. */
const contexts = new Map<string, SharedContext>()

/**
 * The SEAL context of a parameter set; SEAL's own 128-bit check runs again here. Building one
 * costs about 0.15 CPU-s at N=4096 (SEAL derives its tables for every level), so the callers of
 * one thread share it: a key pair, its rotation, an import and an evaluator under the same set
 * build it once. Each caller's `dispose` lets go of it; the last one releases it.
 */
export async function createSealContext(parameters: ResolvedCkksParameters): Promise<SealContext> {
  const { fingerprint } = parameters
  let shared = contexts.get(fingerprint)
  if (shared === undefined) {
    const entry: SharedContext = { built: buildSealContext(parameters), users: 0 }
    entry.built.catch(() => {
      if (contexts.get(fingerprint) === entry) contexts.delete(fingerprint)
    })
    contexts.set(fingerprint, entry)
    shared = entry
  }
  const entry = shared
  entry.users++
  let built: Omit<SealContext, 'parameters'>
  try {
    built = await entry.built
  } catch (error) {
    entry.users--
    throw error
  }
  let released = false
  return {
    seal: built.seal,
    parameters,
    context: built.context,
    encoder: built.encoder,
    evaluator: built.evaluator,
    dispose: () => {
      if (released) return
      released = true
      if (--entry.users > 0) return
      if (contexts.get(fingerprint) === entry) contexts.delete(fingerprint)
      built.dispose()
    },
  }
}

/** Builds a SEAL context of its own. */
async function buildSealContext(
  parameters: ResolvedCkksParameters,
): Promise<Omit<SealContext, 'parameters'>> {
  const seal = await loadSeal()
  const encryptionParameters = new seal.EncryptionParameters(seal.SchemeType.ckks)
  const moduli = seal.CoeffModulus.Create(
    parameters.polyModulusDegree,
    Int32Array.from(parameters.coeffModulusBits),
  )
  try {
    encryptionParameters.setPolyModulusDegree(parameters.polyModulusDegree)
    encryptionParameters.setCoeffModulus(moduli)
    const context = new seal.SEALContext(encryptionParameters, true, seal.SecLevelType.tc128)
    if (!context.parametersSet()) {
      context.delete()
      throw new ContinuumError(
        'CONTINUUM_FHE_INSECURE_PARAMETERS',
        'SEAL rejected the CKKS parameters at 128-bit security',
      )
    }
    const encoder = new seal.CKKSEncoder(context)
    const evaluator = new seal.Evaluator(context)
    return {
      seal,
      context,
      encoder,
      evaluator,
      dispose: () => {
        evaluator.delete()
        encoder.delete()
        context.delete()
      },
    }
  } catch (error) {
    throw sealFailure(error, 'CONTINUUM_FHE_INSECURE_PARAMETERS', 'Creating the SEAL context')
  } finally {
    moduli.delete()
    encryptionParameters.delete()
  }
}

/** SEAL's reason for a failure, when the thrown value carries one. */
export function sealReason(error: unknown): string | undefined {
  if (
    error instanceof WebAssembly.Exception ||
    (typeof error === 'object' && error !== null && 'message' in error)
  ) {
    const message = (error as { message: unknown }).message
    if (Array.isArray(message)) return message.filter((part) => typeof part === 'string').join(': ')
    if (typeof message === 'string' && message.length > 0) return message
  }
  if (typeof error === 'number') return `SEAL exception pointer ${error}`
  return undefined
}

/** Whether the WASM runtime itself broke (abort, out of memory) so the thread must be replaced. */
export function isFatalWasmError(error: unknown): boolean {
  return error instanceof WebAssembly.RuntimeError
}

/** Wraps anything SEAL threw into a ContinuumError with `code`; ContinuumErrors pass through. */
export function sealFailure(error: unknown, code: ErrorCode, action: string): ContinuumError {
  if (ContinuumError.isInstance(error)) return error
  const reason = sealReason(error) ?? 'unknown SEAL failure'
  // SEAL reasons are fixed strings from its sources ("ciphertext data is invalid"), never data.
  return new ContinuumError(code, `${action} failed: ${reason.slice(0, 200)}`, { cause: error })
}

/** SEAL's Galois element for a left rotation by `step` slots (3^step mod 2N, as SEAL computes it). */
export function galoisElement(step: number, polyModulusDegree: number): number {
  const modulus = 2 * polyModulusDegree
  const positiveStep = step >= 0 ? step : polyModulusDegree / 2 + step
  let element = 1
  for (let index = 0; index < positiveStep; index++) element = (element * 3) % modulus
  return element
}
