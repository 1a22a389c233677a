/**
 * The fingerprint clients pin for a hybrid key (docs/PROTOCOL.md §1.2): one hash over both public
 * keys and, for a key that also agrees classical X25519 keys, that permission. Binding the
 * permission matters to a client that cannot or will not agree the hybrid way: it acts on the
 * document's `classical` flag, and a relay that could set the flag under the same pin would have
 * it send a request under X25519 alone to a server that wants none. Apart from the agreement's
 * code (hybrid-agreement.ts, loaded with ML-KEM) so the CLI and the package entry can compute it.
 */
import { createHash } from 'node:crypto'
import { CLASSICAL_FINGERPRINT_LABEL } from './format'

/**
 * `sha256:` and the hex SHA-256 of mlKemPublicKey || x25519Public (raw bytes), followed by the
 * UTF-8 bytes of `continuum-proxy cp2 classical` when the key also agrees classically.
 * @example hybridFingerprint(mlKemPublicKey, x25519PublicKey, document.classical === true)
 */
export function hybridFingerprint(
  mlKemPublicKey: Uint8Array,
  x25519PublicKey: Uint8Array,
  classical: boolean,
): string {
  const hash = createHash('sha256').update(mlKemPublicKey).update(x25519PublicKey)
  if (classical) hash.update(CLASSICAL_FINGERPRINT_LABEL, 'utf8')
  return `sha256:${hash.digest('hex')}`
}
