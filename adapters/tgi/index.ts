/** The Hugging Face TGI protocol: the proxy adapter and the router's provider client. */

export { tgiProviderFactory } from './provider/config'
export { type TgiProviderOptions, tgi } from './provider/provider'
export { tgiAdapter } from './proxy/adapter'
