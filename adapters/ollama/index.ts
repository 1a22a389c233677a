/** The Ollama protocol adapter (proxy side). */
export { ollamaAdapter } from './adapter'
