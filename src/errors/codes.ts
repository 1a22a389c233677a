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

const define = <T extends Record<string, ErrorCodeInfo>>(table: T): T => table

export const ERROR_CODES = define({
  // --- configuration -------------------------------------------------------------------------
  CONTINUUM_INVALID_OPTIONS: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_INTERNAL: { status: 500, type: 'server_error', retryable: false },

  CONTINUUM_DEPENDENCY_MISSING: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_UNSUPPORTED_RUNTIME: { status: 500, type: 'configuration_error', retryable: false },

  // --- request shape -------------------------------------------------------------------------
  CONTINUUM_INVALID_JSON: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error', retryable: false },
  CONTINUUM_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error', retryable: false },
  CONTINUUM_SCHEMA_VIOLATION: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_ROUTE_NOT_SUPPORTED: { status: 501, type: 'invalid_request_error', retryable: false },
  CONTINUUM_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error', retryable: false },
  // Request edges (hardening): refused before routing or before parsing, never a 5xx.
  CONTINUUM_INVALID_PATH: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_JSON_TOO_DEEP: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_INVALID_UTF8: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_BODY_TIMEOUT: { status: 408, type: 'invalid_request_error', retryable: false },

  // --- field encryption ----------------------------------------------------------------------
  CONTINUUM_ENCRYPTION_REQUIRED: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_UNSUPPORTED_VERSION: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_KEY_ID_MISSING: { status: 400, type: 'authentication_error', retryable: false },
  CONTINUUM_KEY_UNKNOWN: { status: 401, type: 'authentication_error', retryable: false },
  CONTINUUM_KEY_RETIRED: { status: 401, type: 'authentication_error', retryable: true },
  CONTINUUM_KEY_AGREEMENT_FAILED: { status: 400, type: 'authentication_error', retryable: false },
  CONTINUUM_MALFORMED_CIPHERTEXT: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_FIELD_NOT_ENCRYPTED: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_DECRYPTION_FAILED: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_INTEGRITY_FAILED: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_REPLAY_DETECTED: { status: 409, type: 'integrity_error', retryable: false },
  CONTINUUM_TIMESTAMP_OUT_OF_WINDOW: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_NON_CANONICAL_JSON: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_REPLAY_CAPACITY_EXCEEDED: { status: 503, type: 'server_error', retryable: true },

  // --- upstream ------------------------------------------------------------------------------
  CONTINUUM_UPSTREAM_UNAVAILABLE: { status: 502, type: 'upstream_error', retryable: true },
  CONTINUUM_UPSTREAM_TIMEOUT: { status: 504, type: 'upstream_error', retryable: true },
  CONTINUUM_UPSTREAM_PROTOCOL_ERROR: { status: 502, type: 'upstream_error', retryable: false },
  CONTINUUM_UPSTREAM_RESPONSE_TOO_LARGE: { status: 502, type: 'upstream_error', retryable: false },
  CONTINUUM_UPSTREAM_STREAM_ABORTED: { status: 502, type: 'upstream_error', retryable: true },
  CONTINUUM_CLIENT_ABORTED: { status: 499, type: 'invalid_request_error', retryable: false },

  // --- client SDK ----------------------------------------------------------------------------
  CONTINUUM_STREAM_TRUNCATED: { status: 502, type: 'integrity_error', retryable: true },
  CONTINUUM_RESPONSE_INTEGRITY_FAILED: { status: 502, type: 'integrity_error', retryable: false },
  CONTINUUM_SERVER_KEY_MISMATCH: { status: 502, type: 'integrity_error', retryable: false },
  CONTINUUM_UNAUTHENTICATED_RESPONSE: { status: 502, type: 'integrity_error', retryable: false },
  CONTINUUM_CLIENT_PATH_REFUSED: { status: 400, type: 'invalid_request_error', retryable: false },

  // --- router / providers --------------------------------------------------------------------
  CONTINUUM_PROVIDER_ERROR: { status: 502, type: 'upstream_error', retryable: true },
  CONTINUUM_PROVIDER_RATE_LIMITED: { status: 429, type: 'rate_limit_error', retryable: true },
  CONTINUUM_PROVIDER_TIMEOUT: { status: 504, type: 'upstream_error', retryable: true },
  CONTINUUM_PROVIDER_UNAVAILABLE: { status: 502, type: 'upstream_error', retryable: true },
  CONTINUUM_PROVIDER_AUTH_FAILED: { status: 502, type: 'upstream_error', retryable: false },
  CONTINUUM_PROVIDER_BAD_REQUEST: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_NOT_SUPPORTED: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_MODEL_NOT_FOUND: { status: 404, type: 'not_found_error', retryable: false },
  CONTINUUM_NO_PROVIDER_AVAILABLE: { status: 503, type: 'upstream_error', retryable: true },
  CONTINUUM_CIRCUIT_OPEN: { status: 503, type: 'upstream_error', retryable: true },
  CONTINUUM_RATE_LIMITED: { status: 429, type: 'rate_limit_error', retryable: true },
  CONTINUUM_STREAM_INTERRUPTED: { status: 502, type: 'upstream_error', retryable: true },
  CONTINUUM_CONFIG_INVALID: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_SECRET_UNRESOLVED: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_MODEL_INTEGRITY_FAILED: { status: 503, type: 'integrity_error', retryable: false },
  // --- homomorphic encryption (continuum-proxy/fhe) -------------------------------------------
  CONTINUUM_FHE_INSECURE_PARAMETERS: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_FHE_MALFORMED_PAYLOAD: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_FHE_PARAMETER_MISMATCH: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_FHE_KEY_MISMATCH: { status: 400, type: 'authentication_error', retryable: false },
  CONTINUUM_FHE_KEYS_UNKNOWN: { status: 404, type: 'not_found_error', retryable: true },
  CONTINUUM_FHE_ROTATION_KEY_MISSING: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_FHE_SIZE_MISMATCH: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_FHE_BATCH_TOO_LARGE: { status: 400, type: 'invalid_request_error', retryable: false },
  CONTINUUM_FHE_COLLECTION_UNKNOWN: { status: 404, type: 'not_found_error', retryable: false },
  CONTINUUM_FHE_OPERATION_FAILED: { status: 500, type: 'server_error', retryable: false },
  CONTINUUM_FHE_WORKER_FAILED: { status: 503, type: 'server_error', retryable: true },
  CONTINUUM_FHE_KEY_ID_UNBOUND: { status: 400, type: 'integrity_error', retryable: false },
  CONTINUUM_FHE_UNAUTHORIZED: { status: 401, type: 'authentication_error', retryable: false },
  CONTINUUM_FHE_KEY_QUOTA_EXCEEDED: { status: 429, type: 'rate_limit_error', retryable: true },
  CONTINUUM_FHE_KEY_STORE_FULL: { status: 503, type: 'server_error', retryable: true },

  // --- differential privacy (src/privacy) ----------------------------------------------------
  CONTINUUM_PRIVACY_BUDGET_EXHAUSTED: { status: 429, type: 'rate_limit_error', retryable: true },
  CONTINUUM_PRIVACY_INVALID_RELEASE: { status: 500, type: 'configuration_error', retryable: false },

  // --- audit log -----------------------------------------------------------------------------
  CONTINUUM_AUDIT_KEY_INVALID: { status: 500, type: 'configuration_error', retryable: false },
  CONTINUUM_AUDIT_INVALID_RECORD: { status: 500, type: 'server_error', retryable: false },
  CONTINUUM_AUDIT_LOG_CORRUPT: { status: 500, type: 'integrity_error', retryable: false },
  CONTINUUM_AUDIT_WRITE_FAILED: { status: 500, type: 'server_error', retryable: true },
  CONTINUUM_AUDIT_LOG_UNREADABLE: { status: 500, type: 'server_error', retryable: false },

  // --- prompt scanning -----------------------------------------------------------------------
  CONTINUUM_PROMPT_INJECTION_BLOCKED: { status: 403, type: 'permission_error', retryable: false },

  // --- shared state (continuum-proxy/redis) ---------------------------------------------------
  CONTINUUM_STORE_UNAVAILABLE: { status: 503, type: 'server_error', retryable: true },
  CONTINUUM_KEY_SOURCE_INVALID: { status: 500, type: 'configuration_error', retryable: false },

  // --- hybrid post-quantum key agreement -------------------------------------------------------
  CONTINUUM_SESSION_INVALID: { status: 401, type: 'authentication_error', retryable: false },
  CONTINUUM_KEY_AGREEMENT_DOWNGRADE: { status: 502, type: 'integrity_error', retryable: false },
})

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES
