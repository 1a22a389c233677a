/** The Text Generation Inference (TGI) protocol adapter (proxy side). */
export { tgiAdapter } from './adapter'
