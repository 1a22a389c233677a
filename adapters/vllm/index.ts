/** vLLM (OpenAI-compatible, several endpoints): the router's provider client. */

export { vllmProviderFactory } from './provider/config'
export {
  VLLM_DEFAULT_CAPABILITIES,
  type VllmEndpointOptions,
  type VllmProviderOptions,
  vllm,
} from './provider/provider'
