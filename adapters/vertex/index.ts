/** Google Vertex AI (Gemini): the router's provider client. */

export type { VertexAccessToken } from './provider/auth'
export { vertexProviderFactory } from './provider/config'
export { type VertexProviderOptions, vertex } from './provider/provider'
