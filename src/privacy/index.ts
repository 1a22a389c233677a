/** Differential-privacy budget accountant and noise mechanisms for plaintext numeric releases. */
export { gaussianNoise, gaussianSigma, laplaceNoise, laplaceScale } from './mechanisms'
export {
  PRIVACY_BUDGET_HEADER,
  PrivacyAccountant,
  type PrivacyAccountantOptions,
  type PrivacyBudget,
  privacyBudgetHeader,
  type ReleaseRequest,
} from './privacy-accountant'
export { cryptoUniform, seededUniform, type UniformRandom } from './random'
