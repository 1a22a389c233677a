/** Error surface: the root class, the code table and helpers. */

export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo, type ErrorType } from './codes'
export { ContinuumError, type ContinuumErrorOptions, isErrorCode, toContinuumError } from './continuum-error'
