/**
 * The error a provider call rejects with, checked to be a ContinuumError: the provider tests'
 * one way to catch what a call throws. `fulfilled` names what a call that resolved instead missed.
 */
import { ContinuumError } from 'continuum-proxy'
import { expect } from 'vitest'

export async function caught(
  promise: Promise<unknown>,
  fulfilled = 'expected a rejection',
): Promise<ContinuumError> {
  try {
    await promise
  } catch (error) {
    expect(ContinuumError.isInstance(error), String(error)).toBe(true)
    return error as ContinuumError
  }
  throw new Error(fulfilled)
}
