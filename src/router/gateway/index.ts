/** The router gateway: the upstream that answers adapter routes from an InferenceRouter. */
export { createRouterUpstream } from './router-upstream'
