/**
 * Loads `@noble/post-quantum` (audited, pure JavaScript; an optional peer dependency) only when a
 * hybrid mode is configured, so classical users never load it. Until `node:crypto` offers ML-KEM
 * and ML-DSA in the supported Node range this is where FIPS 203 and FIPS 204 come from.
 */
import { ContinuumError } from '../errors'
import { isPackageNotFound } from './optional-dependency'

/** The part of an ML-DSA parameter set the package uses. */
export interface MlDsa {
  keygen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array }
  sign(message: Uint8Array, secretKey: Uint8Array, options?: { context?: Uint8Array }): Uint8Array
  verify(
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
    options?: { context?: Uint8Array },
  ): boolean
}

/** The part of an ML-KEM parameter set the package uses. */
export interface MlKem {
  keygen(seed?: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array }
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array }
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array
}

let mlDsa: Promise<MlDsa> | undefined
let mlKem: Promise<MlKem> | undefined
let mlKemLoaded: MlKem | undefined

function missing(error: unknown): unknown {
  // Only an absent package is "missing"; a broken install is reported as it is.
  const cause = (error as { cause?: unknown } | undefined)?.cause
  // Test runners and bundlers may wrap the loader's error; the cause then says what was missing.
  if (!isPackageNotFound(error, '@noble/post-quantum') && !isPackageNotFound(cause, '@noble/post-quantum'))
    return error
  return new ContinuumError(
    'CONTINUUM_DEPENDENCY_MISSING',
    'Hybrid post-quantum modes need the "@noble/post-quantum" package: npm install @noble/post-quantum',
    { cause: error },
  )
}

/** ML-DSA-65 (FIPS 204), loaded once. */
export function loadMlDsa65(): Promise<MlDsa> {
  mlDsa ??= import('@noble/post-quantum/ml-dsa.js').then(
    (module) => module.ml_dsa65 as unknown as MlDsa,
    (error: unknown) => {
      mlDsa = undefined
      throw missing(error)
    },
  )
  return mlDsa
}

/** ML-KEM-768 (FIPS 203), loaded once. */
export function loadMlKem768(): Promise<MlKem> {
  mlKem ??= import('@noble/post-quantum/ml-kem.js').then(
    (module) => {
      mlKemLoaded = module.ml_kem768 as unknown as MlKem
      return mlKemLoaded
    },
    (error: unknown) => {
      mlKem = undefined
      throw missing(error)
    },
  )
  return mlKem
}

/**
 * ML-KEM-768 when {@link loadMlKem768} already loaded it, for code that must stay synchronous (a
 * Keyring built from options); undefined before.
 */
export function loadedMlKem768(): MlKem | undefined {
  return mlKemLoaded
}
