/** The Triton Inference Server protocol adapter (proxy side). */
export { tritonAdapter } from './proxy/adapter'
