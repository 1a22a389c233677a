/**
 * The Triton Inference Server adapter: the generate extension (`generate`, and `generate_stream`
 * whose SSE events carry no terminal sentinel) and KServe v2 `infer` with JSON tensors, each with
 * and without a model version in the path, are encrypted; health, server and model metadata and
 * readiness are plain. Binary tensor bodies (`Inference-Header-Content-Length`) are not JSON and
 * are not served on the encrypted routes.
 */

import { defineAdapter, loadOnce, type RouteDefinition } from '../../../src/adapter-kit/index'
import {
  GENERATE_REQUEST_PLAIN,
  GENERATE_RESPONSE_PLAIN,
  INFER_REQUEST_PLAIN,
  INFER_RESPONSE_PLAIN,
} from './fields'

/**
 * The model-text readers, loaded once when a scanner first asks for one: only a scanner runs them,
 * so a proxy without one never loads them.
 */
const modelTextReaders = loadOnce(() => import('./model-text'))

/** The request schemas, loaded on the first request a route of theirs validates. */
const schemas = loadOnce(() => import('./schema'))

const MODEL = '/v2/models/{model}'
const VERSIONED = '/v2/models/{model}/versions/{version}'

/** One route under both the unversioned and the versioned model path. */
function bothVersions(route: Omit<RouteDefinition, 'path'>, suffix: string): RouteDefinition[] {
  return [
    { ...route, path: `${MODEL}${suffix}` },
    { ...route, name: `${route.name}-versioned`, path: `${VERSIONED}${suffix}` },
  ]
}

/** The Triton adapter. */
export const tritonAdapter = defineAdapter({
  name: 'triton',
  credentialHeaders: ['authorization'],
  routes: [
    ...bothVersions(
      {
        name: 'generate',
        method: 'POST',
        encrypted: true,
        requestPlain: GENERATE_REQUEST_PLAIN,
        requestSchema: () => schemas().then((module) => module.generateSchema),
        responsePlain: GENERATE_RESPONSE_PLAIN,
        operation: 'text_completion',
        modelText: (body) => modelTextReaders().then((module) => module.generateModelText(body)),
      },
      '/generate',
    ),
    ...bothVersions(
      {
        name: 'generate-stream',
        method: 'POST',
        encrypted: true,
        requestPlain: GENERATE_REQUEST_PLAIN,
        requestSchema: () => schemas().then((module) => module.generateSchema),
        responsePlain: GENERATE_RESPONSE_PLAIN,
        stream: { framing: 'sse', when: 'always', plain: GENERATE_RESPONSE_PLAIN },
        operation: 'text_completion',
        modelText: (body) => modelTextReaders().then((module) => module.generateModelText(body)),
      },
      '/generate_stream',
    ),
    ...bothVersions(
      {
        name: 'infer',
        method: 'POST',
        encrypted: true,
        requestPlain: INFER_REQUEST_PLAIN,
        requestSchema: () => schemas().then((module) => module.inferSchema),
        responsePlain: INFER_RESPONSE_PLAIN,
        operation: 'infer',
        modelText: (body) => modelTextReaders().then((module) => module.inferModelText(body)),
      },
      '/infer',
    ),
    ...bothVersions({ name: 'model-metadata', method: 'GET', encrypted: false }, ''),
    ...bothVersions({ name: 'model-ready', method: 'GET', encrypted: false }, '/ready'),
    { name: 'server-metadata', method: 'GET', path: '/v2', encrypted: false },
    { name: 'health-ready', method: 'GET', path: '/v2/health/ready', encrypted: false },
    { name: 'health-live', method: 'GET', path: '/v2/health/live', encrypted: false },
  ],
})
