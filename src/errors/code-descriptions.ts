/**
 * One line per error code saying when it is raised: the "when" column of docs/errors.md. It is
 * its own module, apart from the code table the runtime reads (status, type, retryable), so that
 * the proxy does not load 82 lines of documentation to answer a request; import it from
 * `continuum-proxy` to show or document a code. The type makes a code without a line, or a line
 * for no code, a compile error.
 */
import type { ErrorCode } from './codes'

/** When each error code is raised, one line each, as docs/errors.md shows it. */
export const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  // --- configuration -------------------------------------------------------------------------
  CONTINUUM_INVALID_OPTIONS:
    'Options passed to a constructor or factory are invalid; raised at construction.',
  CONTINUUM_INTERNAL: 'An unexpected internal failure; the message carries no request content.',
  CONTINUUM_DEPENDENCY_MISSING:
    'A feature needs an optional package that is not installed; the message names it.',
  CONTINUUM_UNSUPPORTED_RUNTIME:
    'The Node.js version is older than the package needs (>= 22.12); raised when the package is imported.',

  // --- request shape -------------------------------------------------------------------------
  CONTINUUM_INVALID_JSON: 'The request body is not valid JSON.',
  CONTINUUM_BODY_TOO_LARGE: 'The request body is larger than the configured limit.',
  CONTINUUM_UNSUPPORTED_MEDIA_TYPE: 'The route expects a JSON body and got another content type.',
  CONTINUUM_SCHEMA_VIOLATION:
    "The request does not match the adapter's schema; the message names the failing path.",
  CONTINUUM_ROUTE_NOT_SUPPORTED: 'No adapter serves this route and pass-through is not configured for it.',
  CONTINUUM_METHOD_NOT_ALLOWED: 'The route exists but not for this HTTP method.',
  CONTINUUM_INVALID_PATH:
    'The path is ambiguous (dot or empty segments, encoded dots, slashes, backslashes or percent signs, encoded unreserved or control characters, malformed percent-encoding); refused before routing.',
  CONTINUUM_JSON_TOO_DEEP:
    'The JSON body nests arrays and objects deeper than maxJsonDepth; refused before parsing.',
  CONTINUUM_INVALID_UTF8: 'The request body is not valid UTF-8; nothing is replaced or forwarded.',
  CONTINUUM_BODY_TIMEOUT:
    'The request body stalled longer than bodyIdleTimeoutMs or took longer than bodyTimeoutMs; the connection is closed.',

  // --- field encryption ----------------------------------------------------------------------
  CONTINUUM_ENCRYPTION_REQUIRED:
    'The server requires field encryption and the request carries no encryption headers.',
  CONTINUUM_UNSUPPORTED_VERSION:
    'The request or ciphertext names a format version this server does not speak.',
  CONTINUUM_KEY_ID_MISSING: 'An encrypted request does not name its key id.',
  CONTINUUM_KEY_UNKNOWN: 'The key id is not in the keyring.',
  CONTINUUM_KEY_RETIRED: 'The key id was retired after rotation; clients refresh their key and retry.',
  CONTINUUM_KEY_AGREEMENT_FAILED:
    'The ephemeral X25519 public key is malformed or the agreement could not complete.',
  CONTINUUM_MALFORMED_CIPHERTEXT: 'A field that should hold a ciphertext string does not parse as one.',
  CONTINUUM_FIELD_NOT_ENCRYPTED:
    'A sensitive field carries a plaintext value where a ciphertext is required.',
  CONTINUUM_DECRYPTION_FAILED:
    'A ciphertext failed authentication: tampered, moved to another field, or from another request.',
  CONTINUUM_INTEGRITY_FAILED:
    'The seal over the plain routing fields does not verify: a plain field was changed or removed.',
  CONTINUUM_REPLAY_DETECTED: 'The request nonce was already used within the replay window.',
  CONTINUUM_TIMESTAMP_OUT_OF_WINDOW: 'The request timestamp is missing or outside the replay window.',
  CONTINUUM_NON_CANONICAL_JSON:
    'A value to be sealed or hashed has no RFC 8785 form (a number outside the double range such as 1e400, a lone surrogate), or a field plaintext is not in it.',
  CONTINUUM_REPLAY_CAPACITY_EXCEEDED:
    'The replay memory holds replayCapacity nonces of the current window; new encrypted requests wait (Retry-After) rather than forget one.',

  // --- upstream ------------------------------------------------------------------------------
  CONTINUUM_UPSTREAM_UNAVAILABLE: 'The upstream inference server refused or dropped the connection.',
  CONTINUUM_UPSTREAM_TIMEOUT: 'The upstream did not answer within the configured timeout.',
  CONTINUUM_UPSTREAM_PROTOCOL_ERROR: 'The upstream answered with a body that does not follow its protocol.',
  CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE:
    'An upstream response that needs re-encryption exceeds the configured buffer limit.',
  CONTINUUM_UPSTREAM_STREAM_ABORTED:
    'The upstream closed a stream before it finished; the client receives an error event.',
  CONTINUUM_CLIENT_ABORTED: 'The client went away; the upstream request was aborted.',

  // --- client SDK ----------------------------------------------------------------------------
  CONTINUUM_STREAM_TRUNCATED: 'An encrypted stream ended without its authenticated end marker.',
  CONTINUUM_RESPONSE_INTEGRITY_FAILED:
    'A response or stream event failed its seal: tampered, reordered or dropped on the way.',
  CONTINUUM_SERVER_KEY_MISMATCH: "The server's published X25519 key does not match the pinned fingerprint.",
  CONTINUUM_UNAUTHENTICATED_RESPONSE:
    'An unsealed error answered an encrypted request: anyone on the path can write one, so only its HTTP status is kept and the client never retries on it.',
  CONTINUUM_CLIENT_PATH_REFUSED:
    'The encrypting client refused to send: the path is not in normal form, or the request would carry a body in clear to a path that is neither an encrypted route nor declared plain.',

  // --- router / providers --------------------------------------------------------------------
  CONTINUUM_PROVIDER_ERROR:
    'A provider answered with an error; details.upstreamStatus holds its status (retryable for 5xx, 408, 429 and connection errors).',
  CONTINUUM_PROVIDER_RATE_LIMITED: 'A provider answered 429; retryAfterSeconds carries its Retry-After.',
  CONTINUUM_PROVIDER_TIMEOUT: 'A provider did not answer within the per-attempt or total timeout.',
  CONTINUUM_PROVIDER_UNAVAILABLE: 'A provider refused or reset the connection.',
  CONTINUUM_PROVIDER_AUTH_FAILED:
    'A provider rejected the configured credentials (its 401 or 403); details.upstreamStatus holds it.',
  CONTINUUM_PROVIDER_BAD_REQUEST: 'A provider rejected the request as malformed (its 400 or 422).',
  CONTINUUM_NOT_SUPPORTED:
    'The provider or route does not support the requested operation (e.g. embeddings, tools).',
  CONTINUUM_MODEL_NOT_FOUND: 'No configured provider serves the requested model.',
  CONTINUUM_NO_PROVIDER_AVAILABLE:
    'Every candidate provider failed, is open-circuited or is over its limits; details list each attempt.',
  CONTINUUM_CIRCUIT_OPEN: "A provider's circuit breaker is open after repeated transient failures.",
  CONTINUUM_RATE_LIMITED:
    'A local per-provider limit (requests or tokens per minute, concurrency) is exhausted.',
  CONTINUUM_STREAM_INTERRUPTED:
    'A provider stream failed after chunks were delivered; it ends with an error chunk, never a silent cut.',
  CONTINUUM_CONFIG_INVALID:
    'The router configuration (TOML, JSON or code) is invalid; the message names the offending key.',
  CONTINUUM_SECRET_UNRESOLVED:
    'A secret reference (env:NAME, file:/path) could not be resolved; the message names the reference only.',
  CONTINUUM_MODEL_INTEGRITY_FAILED:
    "A local model's weights do not match their signed manifest; the endpoint does not serve it.",

  // --- homomorphic encryption (continuum-proxy/fhe) -------------------------------------------
  CONTINUUM_FHE_INSECURE_PARAMETERS:
    'CKKS parameters exceed the 128-bit security bound for their ring degree, or are not a valid CKKS chain.',
  CONTINUUM_FHE_MALFORMED_PAYLOAD:
    'FHE keys or a ciphertext do not parse: not a continuum envelope, truncated, or refused by SEAL.',
  CONTINUUM_FHE_PARAMETER_MISMATCH:
    "FHE keys or a ciphertext were made for another parameter set, level or scale than the server's.",
  CONTINUUM_FHE_KEY_MISMATCH:
    'A ciphertext names another key id than the evaluation keys the request selects.',
  CONTINUUM_FHE_KEYS_UNKNOWN:
    'No evaluation keys are held for the key id (never uploaded, or evicted from the cache); upload them again.',
  CONTINUUM_FHE_ROTATION_KEY_MISSING:
    'The uploaded evaluation keys lack a Galois (rotation) step the operation needs; the details list the steps.',
  CONTINUUM_FHE_SIZE_MISMATCH:
    'A vector or matrix has the wrong size for the parameter set or the stored collection.',
  CONTINUUM_FHE_BATCH_TOO_LARGE:
    "More queries than fit into one ciphertext's slots for the collection's batched layout.",
  CONTINUUM_FHE_COLLECTION_UNKNOWN:
    'The named stored collection or linear model is not registered on the server.',
  CONTINUUM_FHE_OPERATION_FAILED:
    'SEAL refused a homomorphic operation; the message carries the SEAL reason, never values.',
  CONTINUUM_FHE_WORKER_FAILED:
    'An FHE worker thread exited during the job; it is restarted and the request can be retried.',
  CONTINUUM_FHE_KEY_ID_UNBOUND:
    'Uploaded evaluation keys name a key id that is not the digest of their key material, so they cannot be filed under it.',
  CONTINUUM_FHE_UNAUTHORIZED: "The FHE handler's authorize hook did not name the caller.",
  CONTINUUM_FHE_KEY_QUOTA_EXCEEDED:
    "The upload would take the caller's evaluation keys past its byte quota; delete unused keys or wait for idle ones to expire.",
  CONTINUUM_FHE_KEY_STORE_FULL:
    'The evaluation-key store holds its maximum bytes; nothing is evicted to make room, so the upload waits for keys to be deleted or expire.',

  // --- differential privacy (src/privacy) ----------------------------------------------------
  CONTINUUM_PRIVACY_BUDGET_EXHAUSTED:
    "The release would exceed the identity's (epsilon, delta) budget; the details carry the remaining budget.",
  CONTINUUM_PRIVACY_INVALID_RELEASE:
    'A noisy release was asked for with an invalid epsilon, delta or sensitivity.',

  // --- audit log -----------------------------------------------------------------------------
  CONTINUUM_AUDIT_KEY_INVALID:
    'An audit signing or verifying key is not Ed25519 (PEM, or 32 raw bytes in base64); the key is never echoed.',
  CONTINUUM_AUDIT_INVALID_RECORD:
    'AuditLog.record() got an input of the wrong shape; the message names the field, never its value.',
  CONTINUUM_AUDIT_LOG_CORRUPT:
    'An existing audit log cannot be continued: its last line is torn, not a record, or edited.',
  CONTINUUM_AUDIT_WRITE_FAILED:
    'The audit sink failed to open, write or flush; unwritten records stay queued and are retried.',
  CONTINUUM_AUDIT_LOG_UNREADABLE:
    'The audit log given to the verifier cannot be opened or read (missing file, permissions).',

  // --- prompt scanning -----------------------------------------------------------------------
  CONTINUUM_PROMPT_INJECTION_BLOCKED:
    'The prompt scanner rated the request at or above its block threshold; nothing was forwarded.',

  // --- shared state (continuum-proxy/redis) ---------------------------------------------------
  CONTINUUM_STORE_UNAVAILABLE:
    'The shared state store (Redis) did not answer in time or is unreachable; state that must agree fails closed.',
  CONTINUUM_KEY_SOURCE_INVALID:
    'A key source (key file or stored key schedule) is unreadable or malformed, or holds key material where only ids and times belong; the message names the entry, never a value.',

  // --- hybrid post-quantum key agreement -------------------------------------------------------
  CONTINUUM_SESSION_INVALID:
    'A hybrid session ticket is malformed, forged, or sealed for another key; an ended session is CONTINUUM_KEY_RETIRED instead.',
  CONTINUUM_KEY_AGREEMENT_DOWNGRADE:
    'The client requires the hybrid post-quantum agreement and the server key it fetched offers only the classical one (a relay may have rewritten it).',
}
