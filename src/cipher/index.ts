/** The field cipher: format constants, keys, agreement, field and message encryption, replay guard. */
export { canonicalJson } from '../internal/canonical-json'
export {
  type CipherContext,
  computeSeal,
  computeSealOfText,
  type Direction,
  decryptValue,
  encryptValue,
  type SealKind,
  sealMatches,
  sealMatchesText,
} from './field-cipher'
export { createFieldKey, decodeKeyMaterial, type FieldKey, type KeyMaterial } from './field-key'
export { compilePlainFields, decryptFields, encryptFields, type PlainFieldTree } from './field-map'
export {
  AGREEMENT_KEY_PATH,
  BATCH_EVENT_NAME,
  BATCH_KEY,
  CIPHERTEXT_PREFIX,
  END_EVENT_NAME,
  END_MARKER_KEY,
  EVENT_SEAL_KEY,
  FORMAT_VERSION,
  HEADERS,
  isCiphertext,
  isValidKeyId,
  NONCE_LENGTH,
} from './format'
export {
  type AgreementKeyPair,
  deriveAgreedKey,
  fingerprint,
  generateAgreementKeyPair,
  importPublicKey,
  loadAgreementPrivateKey,
  type PublishedAgreementKey,
  rawPublicKey,
} from './key-agreement'
export { type AgreementKeyInput, Keyring, type KeyringOptions, type SharedKeyInput } from './keyring'
export {
  endMarker,
  errorSealMatches,
  failureMarker,
  isEndMarker,
  openEvent,
  openRequest,
  openResponse,
  type StreamFailure,
  sealError,
  sealEvent,
  sealEventText,
  sealRequest,
  sealResponse,
  verifyEndMarker,
  verifyRequest,
} from './message-codec'
export { ReplayGuard, type ReplayGuardOptions } from './replay-guard'
export {
  type BoundRequest,
  bindRequest,
  canonicalQuery,
  parseSealedHeaderList,
  type RequestBinding,
  requestSealMeta,
  sealedHeaderBlock,
  sealedHeaderList,
} from './request-binding'
export { encryptRequestMessage, type RequestMessage, type RequestMessageInput } from './request-message'
export { sealBatch } from './stream-batch'
