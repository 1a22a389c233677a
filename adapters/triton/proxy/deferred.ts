/**
 * The Triton adapter as the bindings register it: its routes alone, the definitions (field maps,
 * stream framing) loaded on the first request one of them serves, so naming `'triton'` costs a
 * proxy nothing until Triton traffic arrives. The registry checks the loaded routes against these.
 */
import { deferAdapter, type RouteSummary } from '../../../src/adapter-kit/index'

/** One route under both the unversioned and the versioned model path, as adapter.ts declares it. */
function bothVersions(
  name: string,
  method: RouteSummary['method'],
  encrypted: boolean,
  suffix: string,
): RouteSummary[] {
  return [
    { name, method, encrypted, path: `/v2/models/{model}${suffix}` },
    { name: `${name}-versioned`, method, encrypted, path: `/v2/models/{model}/versions/{version}${suffix}` },
  ]
}

/** The deferred Triton adapter. */
export const deferredTritonAdapter = deferAdapter({
  name: 'triton',
  routes: [
    ...bothVersions('generate', 'POST', true, '/generate'),
    ...bothVersions('generate-stream', 'POST', true, '/generate_stream'),
    ...bothVersions('infer', 'POST', true, '/infer'),
    ...bothVersions('model-metadata', 'GET', false, ''),
    ...bothVersions('model-ready', 'GET', false, '/ready'),
    { name: 'server-metadata', method: 'GET', path: '/v2', encrypted: false },
    { name: 'health-ready', method: 'GET', path: '/v2/health/ready', encrypted: false },
    { name: 'health-live', method: 'GET', path: '/v2/health/live', encrypted: false },
  ],
  load: () => import('./adapter').then((module) => module.tritonAdapter),
})
