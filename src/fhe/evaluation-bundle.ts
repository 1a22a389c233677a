/**
 * Reading an evaluation-key bundle, whether a client uploaded it or an instance fetched it from
 * the shared store: the envelope must be of this parameter set, carry only evaluation-key
 * sections, and be filed under the digest of its own key material, so nobody can store other
 * keys under an id. Returns the sections copied out of the input buffer.
 */
import { ContinuumError } from '../errors'
import { decodeEnvelope, decodeSteps, EnvelopeKind, evaluationKeyId, SectionTag } from './envelope'
import type { EvaluationKeyBytes } from './seal-evaluator'

/** A checked bundle. */
export interface ParsedBundle {
  readonly keyId: string
  readonly galoisSteps: number[]
  readonly keys: EvaluationKeyBytes
}

/** Sections an evaluation-key bundle may carry. */
const KEY_SECTIONS: ReadonlySet<number> = new Set([
  SectionTag.publicKey,
  SectionTag.relinKeys,
  SectionTag.galoisKeys,
  SectionTag.galoisSteps,
])

/** Checks a bundle against the service's parameter fingerprint and reads its sections. */
export function parseEvaluationBundle(bundle: Uint8Array, fingerprint: string): ParsedBundle {
  const envelope = decodeEnvelope(bundle, EnvelopeKind.evaluationKeys)
  if (envelope.fingerprint !== fingerprint) {
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
  // Copy out of the request buffer so the store does not pin a larger body.
  const copy = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Uint8Array.from(bytes))
  return {
    keyId: envelope.keyId,
    galoisSteps,
    keys: {
      galoisKeys: copy(galoisKeys),
      galoisSteps,
      relinKeys: copy(envelope.sections.get(SectionTag.relinKeys)),
      publicKey: copy(envelope.sections.get(SectionTag.publicKey)),
    },
  }
}
