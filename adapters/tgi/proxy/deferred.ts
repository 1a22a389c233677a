/**
 * The TGI adapter as the bindings register it: its routes alone, the definitions (field maps,
 * facts, stream framing) loaded on the first request one of them serves, so naming `'tgi'` costs
 * a proxy nothing until TGI traffic arrives. The registry checks the loaded routes against these.
 */
import { deferAdapter } from '../../../src/adapter-kit/index'

/** The deferred TGI adapter. */
export const deferredTgiAdapter = deferAdapter({
  name: 'tgi',
  routes: [
    { name: 'generate', method: 'POST', path: '/generate', encrypted: true },
    { name: 'generate-stream', method: 'POST', path: '/generate_stream', encrypted: true },
    { name: 'health', method: 'GET', path: '/health', encrypted: false },
    { name: 'info', method: 'GET', path: '/info', encrypted: false },
    { name: 'metrics', method: 'GET', path: '/metrics', encrypted: false },
  ],
  load: () => import('./adapter').then((module) => module.tgiAdapter),
})
