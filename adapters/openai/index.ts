/** The OpenAI protocol adapter (proxy side). */
export { openaiAdapter } from './adapter'
