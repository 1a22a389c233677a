/**
 * What the keyring runs only for hybrid agreement keys: seed expansion, publication, session
 * tickets and the proving half of the handshake. A keyring of shared or X25519 keys never needs
 * it, so it is one module loaded with ML-KEM (hybrid-support.ts) rather than imported.
 */
export { expandHybridSeed, publishHybridKey } from './hybrid-agreement'
export { proveHandshake } from './hybrid-handshake-proof'
export { deriveTicketKey, looksLikeTicket, openTicket } from './session-ticket'
