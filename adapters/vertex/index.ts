/** Google Vertex AI (Gemini): the router's provider client. */
export { type VertexProviderOptions, vertex } from './provider'
export type { VertexAccessToken } from './provider-auth'
export { vertexProviderFactory } from './provider-config'
