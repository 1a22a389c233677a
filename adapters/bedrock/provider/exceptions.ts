/**
 * Maps the exception messages ConverseStream sends inside an already-started stream
 * (`:message-type: exception`, named by `:exception-type`) onto the router's codes, using the
 * HTTP status the Bedrock API reference gives each exception when it is raised before the stream.
 */
import type { ContinuumError } from '../../../src/index'
import { providerErrorFromResponse, streamFailure } from '../../../src/provider-kit/index'

const EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  throttlingException: 429,
  validationException: 400,
  accessDeniedException: 403,
  resourceNotFoundException: 404,
  internalServerException: 500,
  serviceUnavailableException: 503,
  modelTimeoutException: 408,
  modelNotReadyException: 429,
}

/** The error for an exception message of type `exceptionType` (unknown types are retryable provider errors). */
export function streamExceptionError(providerId: string, exceptionType: string): ContinuumError {
  const status = EXCEPTION_STATUS[exceptionType]
  if (status !== undefined) return providerErrorFromResponse(status, undefined, providerId)
  // modelStreamErrorException and anything newer: the model failed mid-answer; another attempt may work.
  const kind = /^[A-Za-z]+$/.test(exceptionType) ? exceptionType : 'an exception'
  return streamFailure(providerId, kind, true)
}
