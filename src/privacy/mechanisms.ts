/**
 * Noise mechanisms for numeric results released in plaintext. Laplace gives pure epsilon-DP with
 * scale sensitivity/epsilon; Gaussian gives (epsilon, delta)-DP with the classic calibration
 * sigma = sensitivity · sqrt(2 ln(1.25/delta)) / epsilon (valid for epsilon < 1).
 */
import { ContinuumError } from '../errors'
import type { UniformRandom } from './random'

const invalid = (message: string) => new ContinuumError('CONTINUUM_PRIVACY_INVALID_RELEASE', message)

/** A Laplace(0, scale) draw by inverse CDF. */
export function laplaceNoise(scale: number, random: UniformRandom): number {
  let uniform = random() - 0.5
  while (uniform === -0.5) uniform = random() - 0.5
  return -scale * Math.sign(uniform) * Math.log(1 - 2 * Math.abs(uniform))
}

/** A Normal(0, sigma²) draw by Box-Muller. */
export function gaussianNoise(sigma: number, random: UniformRandom): number {
  let first = random()
  while (first === 0) first = random()
  return sigma * Math.sqrt(-2 * Math.log(first)) * Math.cos(2 * Math.PI * random())
}

/** Laplace scale b = sensitivity / epsilon. */
export function laplaceScale(sensitivity: number, epsilon: number): number {
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity))
    throw invalid('sensitivity must be a positive finite number')
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw invalid('epsilon must be a positive finite number')
  return sensitivity / epsilon
}

/** Gaussian sigma for (epsilon, delta)-DP; epsilon in (0, 1), delta in (0, 1). */
export function gaussianSigma(sensitivity: number, epsilon: number, delta: number): number {
  if (!(sensitivity > 0) || !Number.isFinite(sensitivity))
    throw invalid('sensitivity must be a positive finite number')
  if (!(epsilon > 0 && epsilon < 1)) throw invalid('the Gaussian mechanism needs 0 < epsilon < 1')
  if (!(delta > 0 && delta < 1)) throw invalid('the Gaussian mechanism needs 0 < delta < 1')
  return (sensitivity * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon
}
