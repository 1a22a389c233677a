/** The Ollama protocol: the proxy adapter and the router's provider client. */
export { ollamaAdapter } from './adapter'
export { type OllamaProviderOptions, ollama } from './provider'
export { ollamaProviderFactory } from './provider-config'
