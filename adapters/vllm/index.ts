/** vLLM (OpenAI-compatible, several endpoints): the router's provider client. */
export {
  VLLM_DEFAULT_CAPABILITIES,
  type VllmEndpointOptions,
  type VllmProviderOptions,
  vllm,
} from './provider'
export { vllmProviderFactory } from './provider-config'
