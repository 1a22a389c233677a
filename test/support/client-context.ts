/**
 * The client's view of a server cipher context: the same key id, nonce and direction, with the
 * key re-derived for the client's crypto backend (src/client/web-crypto), so a test can seal with
 * the server's code and open with the client's.
 */
import type { CipherContext } from '../../src/cipher'
import {
  type ClientCipherContext,
  type CryptoBackend,
  defaultBackend,
  deriveFieldKey,
} from '../../src/client/web-crypto/index'

export async function clientContext(
  context: CipherContext,
  backend: CryptoBackend = defaultBackend(),
): Promise<ClientCipherContext> {
  return { ...context, key: await deriveFieldKey(backend, context.key.id, context.key.aesKey) }
}
