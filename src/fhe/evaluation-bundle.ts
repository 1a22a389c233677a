/**
 * Reading an evaluation-key bundle, whether a client uploaded it or an instance fetched it from
 * the shared store: the envelope must be of this parameter set, carry only evaluation-key
 * sections, and be filed under the digest of its own key material, so nobody can store other
 * keys under an id. Every SEAL section is inflated here within its bound (seal-object-bounds.ts)
 * and returned uncompressed, copied out of the input buffer, with its total: what the keys weigh
 * once a worker holds them, so what the caller's quota is charged.
 */
import { ContinuumError } from '../errors'
import { decodeEnvelope, decodeSteps, EnvelopeKind, evaluationKeyId, SectionTag } from './envelope'
import type { ResolvedCkksParameters } from './params'
import type { EvaluationKeyBytes } from './seal-evaluator'
import { boundedSealObject, type SealObjectShape } from './seal-object-bounds'

/** A checked bundle. */
export interface ParsedBundle {
  readonly keyId: string
  readonly galoisSteps: number[]
  /** The SEAL sections, uncompressed. */
  readonly keys: EvaluationKeyBytes
  /** Bytes of the uncompressed sections. */
  readonly bytes: number
}

/** Sections an evaluation-key bundle may carry. */
const KEY_SECTIONS: ReadonlySet<number> = new Set([
  SectionTag.publicKey,
  SectionTag.relinKeys,
  SectionTag.galoisKeys,
  SectionTag.galoisSteps,
])

/**
 * Checks a bundle against the service's parameter set and reads its sections, inflating them to
 * at most `maxBytes` in total (`CONTINUUM_BODY_TOO_LARGE` past it).
 */
export function parseEvaluationBundle(
  bundle: Uint8Array,
  parameters: ResolvedCkksParameters,
  maxBytes = Number.POSITIVE_INFINITY,
): ParsedBundle {
  const envelope = decodeEnvelope(bundle, EnvelopeKind.evaluationKeys)
  if (envelope.fingerprint !== parameters.fingerprint) {
    throw new ContinuumError(
      'CONTINUUM_FHE_PARAMETER_MISMATCH',
      'The evaluation keys were made for another CKKS parameter set',
    )
  }
  for (const tag of envelope.sections.keys()) {
    if (!KEY_SECTIONS.has(tag))
      throw new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', `Evaluation keys carry section ${tag}`)
  }
  if (evaluationKeyId(envelope.fingerprint, envelope.sections) !== envelope.keyId) {
    throw new ContinuumError(
      'CONTINUUM_FHE_KEY_ID_UNBOUND',
      'The key id of these evaluation keys is not the digest of their key material',
    )
  }
  const stepBytes = envelope.sections.get(SectionTag.galoisSteps)
  const galoisSteps = stepBytes === undefined ? [] : decodeSteps(stepBytes)
  const galoisKeys = envelope.sections.get(SectionTag.galoisKeys)
  if ((galoisKeys === undefined) !== (stepBytes === undefined)) {
    throw new ContinuumError(
      'CONTINUUM_FHE_MALFORMED_PAYLOAD',
      'Galois keys and their step list must come together',
    )
  }
  // Inflated into fresh buffers, so the store does not pin a larger body either.
  let bytes = 0
  const inflate = (section: Uint8Array | undefined, shape: SealObjectShape) => {
    if (section === undefined) return undefined
    const inflated = boundedSealObject(section, shape, parameters, maxBytes - bytes)
    bytes += inflated.byteLength
    return inflated
  }
  const keys: EvaluationKeyBytes = {
    publicKey: inflate(envelope.sections.get(SectionTag.publicKey), { kind: 'ciphertext' }),
    relinKeys: inflate(envelope.sections.get(SectionTag.relinKeys), { kind: 'switchKeys', maxKeys: 1 }),
    galoisKeys: inflate(galoisKeys, { kind: 'switchKeys', maxKeys: galoisSteps.length }),
    galoisSteps,
  }
  return { keyId: envelope.keyId, galoisSteps, keys, bytes }
}
