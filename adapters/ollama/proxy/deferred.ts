/**
 * The Ollama adapter as the bindings register it: its routes alone, the definitions (field maps,
 * facts, stream framing) loaded on the first request one of them serves, so naming `'ollama'`
 * costs a proxy nothing until Ollama traffic arrives. The registry checks the loaded routes
 * against these.
 */
import { deferAdapter } from '../../../src/adapter-kit/index'

/** The deferred Ollama adapter. */
export const deferredOllamaAdapter = deferAdapter({
  name: 'ollama',
  routes: [
    { name: 'chat', method: 'POST', path: '/api/chat', encrypted: true },
    { name: 'generate', method: 'POST', path: '/api/generate', encrypted: true },
    { name: 'embed', method: 'POST', path: '/api/embed', encrypted: true },
    { name: 'embeddings', method: 'POST', path: '/api/embeddings', encrypted: true },
    { name: 'tags', method: 'GET', path: '/api/tags', encrypted: false },
    { name: 'version', method: 'GET', path: '/api/version', encrypted: false },
    { name: 'ps', method: 'GET', path: '/api/ps', encrypted: false },
    { name: 'show', method: 'POST', path: '/api/show', encrypted: false },
  ],
  load: () => import('./adapter').then((module) => module.ollamaAdapter),
})
