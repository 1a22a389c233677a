/**
 * The table of every stable error code: its HTTP status, its OpenAI-style `type` and whether a
 * retry can help, which is all the runtime reads. The line saying when each code is raised lives
 * in code-descriptions.ts (`ERROR_DESCRIPTIONS`), so the proxy does not load the documentation; a
 * test keeps both and docs/errors.md in sync. Codes are never reused once retired; add new ones at
 * the end of their section, with their line in code-descriptions.ts.
 */

/** Metadata of one error code. */
export interface ErrorCodeInfo {
  /** HTTP status a server answers with. */
  readonly status: number
  /** The `error.type` string of the JSON error body. */
  readonly type: ErrorType
  /** Whether repeating the same request later can succeed. */
  readonly retryable: boolean
}

/** Coarse class of an error, as found in `error.type` of an error body. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'upstream_error'
  | 'integrity_error'
  | 'configuration_error'
  | 'server_error'

/**
 * One entry of the table. A call rather than an object literal, and the types by constant, so the
 * table every proxy loads stays small; the inferred type is the same literal shape.
 */
function code<T extends ErrorType, R extends boolean>(
  status: number,
  type: T,
  retryable: R,
): { status: number; type: T; retryable: R } {
  return { status, type, retryable }
}

const INVALID_REQUEST = 'invalid_request_error'
const AUTHENTICATION = 'authentication_error'
const PERMISSION = 'permission_error'
const NOT_FOUND = 'not_found_error'
const RATE_LIMIT = 'rate_limit_error'
const UPSTREAM = 'upstream_error'
const INTEGRITY = 'integrity_error'
const CONFIGURATION = 'configuration_error'
const SERVER = 'server_error'

export const ERROR_CODES = {
  // --- configuration -------------------------------------------------------------------------
  CONTINUUM_INVALID_OPTIONS: code(500, CONFIGURATION, false),
  CONTINUUM_INTERNAL: code(500, SERVER, false),

  CONTINUUM_DEPENDENCY_MISSING: code(500, CONFIGURATION, false),
  CONTINUUM_UNSUPPORTED_RUNTIME: code(500, CONFIGURATION, false),

  // --- request shape -------------------------------------------------------------------------
  CONTINUUM_INVALID_JSON: code(400, INVALID_REQUEST, false),
  CONTINUUM_BODY_TOO_LARGE: code(413, INVALID_REQUEST, false),
  CONTINUUM_UNSUPPORTED_MEDIA_TYPE: code(415, INVALID_REQUEST, false),
  CONTINUUM_SCHEMA_VIOLATION: code(400, INVALID_REQUEST, false),
  CONTINUUM_ROUTE_NOT_SUPPORTED: code(501, INVALID_REQUEST, false),
  CONTINUUM_METHOD_NOT_ALLOWED: code(405, INVALID_REQUEST, false),
  // Request edges (hardening): refused before routing or before parsing, never a 5xx.
  CONTINUUM_INVALID_PATH: code(400, INVALID_REQUEST, false),
  CONTINUUM_JSON_TOO_DEEP: code(400, INVALID_REQUEST, false),
  CONTINUUM_INVALID_UTF8: code(400, INVALID_REQUEST, false),
  CONTINUUM_BODY_TIMEOUT: code(408, INVALID_REQUEST, false),

  // --- field encryption ----------------------------------------------------------------------
  CONTINUUM_ENCRYPTION_REQUIRED: code(400, INVALID_REQUEST, false),
  CONTINUUM_UNSUPPORTED_VERSION: code(400, INVALID_REQUEST, false),
  CONTINUUM_KEY_ID_MISSING: code(400, AUTHENTICATION, false),
  CONTINUUM_KEY_UNKNOWN: code(401, AUTHENTICATION, false),
  CONTINUUM_KEY_RETIRED: code(401, AUTHENTICATION, true),
  CONTINUUM_KEY_AGREEMENT_FAILED: code(400, AUTHENTICATION, false),
  CONTINUUM_MALFORMED_CIPHERTEXT: code(400, INTEGRITY, false),
  CONTINUUM_FIELD_NOT_ENCRYPTED: code(400, INTEGRITY, false),
  CONTINUUM_DECRYPTION_FAILED: code(400, INTEGRITY, false),
  CONTINUUM_INTEGRITY_FAILED: code(400, INTEGRITY, false),
  CONTINUUM_REPLAY_DETECTED: code(409, INTEGRITY, false),
  CONTINUUM_TIMESTAMP_OUT_OF_WINDOW: code(400, INTEGRITY, false),
  CONTINUUM_NON_CANONICAL_JSON: code(400, INVALID_REQUEST, false),
  CONTINUUM_REPLAY_CAPACITY_EXCEEDED: code(503, SERVER, true),

  // --- upstream ------------------------------------------------------------------------------
  CONTINUUM_UPSTREAM_UNAVAILABLE: code(502, UPSTREAM, true),
  CONTINUUM_UPSTREAM_TIMEOUT: code(504, UPSTREAM, true),
  CONTINUUM_UPSTREAM_PROTOCOL_ERROR: code(502, UPSTREAM, false),
  CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE: code(502, UPSTREAM, false),
  CONTINUUM_UPSTREAM_STREAM_ABORTED: code(502, UPSTREAM, true),
  CONTINUUM_CLIENT_ABORTED: code(499, INVALID_REQUEST, false),

  // --- client SDK ----------------------------------------------------------------------------
  CONTINUUM_STREAM_TRUNCATED: code(502, INTEGRITY, true),
  CONTINUUM_RESPONSE_INTEGRITY_FAILED: code(502, INTEGRITY, false),
  CONTINUUM_SERVER_KEY_MISMATCH: code(502, INTEGRITY, false),
  CONTINUUM_UNAUTHENTICATED_RESPONSE: code(502, INTEGRITY, false),
  CONTINUUM_CLIENT_PATH_REFUSED: code(400, INVALID_REQUEST, false),

  // --- router / providers --------------------------------------------------------------------
  CONTINUUM_PROVIDER_ERROR: code(502, UPSTREAM, true),
  CONTINUUM_PROVIDER_RATE_LIMITED: code(429, RATE_LIMIT, true),
  CONTINUUM_PROVIDER_TIMEOUT: code(504, UPSTREAM, true),
  CONTINUUM_PROVIDER_UNAVAILABLE: code(502, UPSTREAM, true),
  CONTINUUM_PROVIDER_AUTH_FAILED: code(502, UPSTREAM, false),
  CONTINUUM_PROVIDER_BAD_REQUEST: code(400, INVALID_REQUEST, false),
  CONTINUUM_NOT_SUPPORTED: code(400, INVALID_REQUEST, false),
  CONTINUUM_MODEL_NOT_FOUND: code(404, NOT_FOUND, false),
  CONTINUUM_NO_PROVIDER_AVAILABLE: code(503, UPSTREAM, true),
  CONTINUUM_CIRCUIT_OPEN: code(503, UPSTREAM, true),
  CONTINUUM_RATE_LIMITED: code(429, RATE_LIMIT, true),
  CONTINUUM_STREAM_INTERRUPTED: code(502, UPSTREAM, true),
  CONTINUUM_CONFIG_INVALID: code(500, CONFIGURATION, false),
  CONTINUUM_SECRET_UNRESOLVED: code(500, CONFIGURATION, false),
  CONTINUUM_MODEL_INTEGRITY_FAILED: code(503, INTEGRITY, false),
  // --- homomorphic encryption (continuum-proxy/fhe) -------------------------------------------
  CONTINUUM_FHE_INSECURE_PARAMETERS: code(500, CONFIGURATION, false),
  CONTINUUM_FHE_MALFORMED_PAYLOAD: code(400, INVALID_REQUEST, false),
  CONTINUUM_FHE_PARAMETER_MISMATCH: code(400, INVALID_REQUEST, false),
  CONTINUUM_FHE_KEY_MISMATCH: code(400, AUTHENTICATION, false),
  CONTINUUM_FHE_KEYS_UNKNOWN: code(404, NOT_FOUND, true),
  CONTINUUM_FHE_ROTATION_KEY_MISSING: code(400, INVALID_REQUEST, false),
  CONTINUUM_FHE_SIZE_MISMATCH: code(400, INVALID_REQUEST, false),
  CONTINUUM_FHE_BATCH_TOO_LARGE: code(400, INVALID_REQUEST, false),
  CONTINUUM_FHE_COLLECTION_UNKNOWN: code(404, NOT_FOUND, false),
  CONTINUUM_FHE_OPERATION_FAILED: code(500, SERVER, false),
  CONTINUUM_FHE_WORKER_FAILED: code(503, SERVER, true),
  CONTINUUM_FHE_KEY_ID_UNBOUND: code(400, INTEGRITY, false),
  CONTINUUM_FHE_UNAUTHORIZED: code(401, AUTHENTICATION, false),
  CONTINUUM_FHE_KEY_QUOTA_EXCEEDED: code(429, RATE_LIMIT, true),
  CONTINUUM_FHE_KEY_STORE_FULL: code(503, SERVER, true),

  // --- differential privacy (src/privacy) ----------------------------------------------------
  CONTINUUM_PRIVACY_BUDGET_EXHAUSTED: code(429, RATE_LIMIT, true),
  CONTINUUM_PRIVACY_INVALID_RELEASE: code(500, CONFIGURATION, false),

  // --- audit log -----------------------------------------------------------------------------
  CONTINUUM_AUDIT_KEY_INVALID: code(500, CONFIGURATION, false),
  CONTINUUM_AUDIT_INVALID_RECORD: code(500, SERVER, false),
  CONTINUUM_AUDIT_LOG_CORRUPT: code(500, INTEGRITY, false),
  CONTINUUM_AUDIT_WRITE_FAILED: code(500, SERVER, true),
  CONTINUUM_AUDIT_LOG_UNREADABLE: code(500, SERVER, false),

  // --- prompt scanning -----------------------------------------------------------------------
  CONTINUUM_PROMPT_INJECTION_BLOCKED: code(403, PERMISSION, false),

  // --- shared state (continuum-proxy/redis) ---------------------------------------------------
  CONTINUUM_STORE_UNAVAILABLE: code(503, SERVER, true),
  CONTINUUM_KEY_SOURCE_INVALID: code(500, CONFIGURATION, false),

  // --- hybrid post-quantum key agreement -------------------------------------------------------
  CONTINUUM_SESSION_INVALID: code(401, AUTHENTICATION, false),
  CONTINUUM_KEY_AGREEMENT_DOWNGRADE: code(502, INTEGRITY, false),
} satisfies Record<string, ErrorCodeInfo>

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES
