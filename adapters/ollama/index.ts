/** The Ollama protocol: the proxy adapter and the router's provider client. */

export { ollamaProviderFactory } from './provider/config'
export { type OllamaProviderOptions, ollama } from './provider/provider'
export { ollamaAdapter } from './proxy/adapter'
