/** The Hugging Face TGI protocol: the proxy adapter and the router's provider client. */
export { tgiAdapter } from './adapter'
export { type TgiProviderOptions, tgi } from './provider'
export { tgiProviderFactory } from './provider-config'
