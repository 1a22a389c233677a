/**
 * Which members of Triton requests the model reads, for the prompt scanner. The generate
 * extension maps every top-level member onto a model input, so all of them are read: `text_input`
 * and any other (a `system_prompt` input, say), and `parameters`. KServe v2 `infer` reads the
 * `data` of every input tensor (BYTES tensors hold strings, possibly in nested arrays) and the
 * request and tensor parameters; numeric tensors hold no text.
 */
import type { ModelTextSegment } from '../../../src/index'
import { ModelTextCollector, pointer, recordOf } from '../../../src/index'

const GENERATE_KNOWN = new Set(['id', 'text_input'])
const INFER_KNOWN = new Set(['id', 'inputs', 'outputs'])
const TENSOR_KNOWN = new Set(['name', 'shape', 'datatype', 'data'])

/** `generate` and `generate_stream`. */
export function generateModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.json('user', body.text_input, '/text_input')
  into.rest('user', body, '', GENERATE_KNOWN)
  return into.segments
}

/** `infer` with JSON tensors. */
export function inferModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  if (Array.isArray(body.inputs)) {
    for (const [index, entry] of body.inputs.entries()) {
      const path = pointer('/inputs', index)
      const tensor = recordOf(entry)
      if (tensor === undefined) {
        into.json('user', entry, path)
        continue
      }
      into.json('user', tensor.data, pointer(path, 'data'))
      into.rest('user', tensor, path, TENSOR_KNOWN)
    }
  } else into.json('user', body.inputs, '/inputs')
  into.rest('user', body, '', INFER_KNOWN)
  return into.segments
}
