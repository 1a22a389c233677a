/**
 * Which members of TGI `generate` requests the model reads, for the prompt scanner: `inputs`
 * (the whole prompt, chat template already applied, so every role is in it), and every member
 * this list does not know. The sampling knobs under `parameters` are numbers and flags; stop
 * sequences and grammars constrain the output and are not shown to the model.
 */
import type { ModelTextSegment } from '../../../src/index'
import { ModelTextCollector, recordOf } from '../../../src/index'

const KNOWN = new Set(['inputs', 'stream', 'parameters'])
const PARAMETERS_KNOWN = new Set([
  'best_of',
  'decoder_input_details',
  'details',
  'do_sample',
  'frequency_penalty',
  'max_new_tokens',
  'repetition_penalty',
  'return_full_text',
  'seed',
  'stop',
  'temperature',
  'top_k',
  'top_n_tokens',
  'top_p',
  'truncate',
  'typical_p',
  'watermark',
  'grammar',
  'adapter_id',
])

/** `/generate` and `/generate_stream`. */
export function generateModelText(body: Record<string, unknown>): ModelTextSegment[] {
  const into = new ModelTextCollector()
  into.json('user', body.inputs, '/inputs')
  const parameters = recordOf(body.parameters)
  if (parameters !== undefined) into.rest('user', parameters, '/parameters', PARAMETERS_KNOWN)
  into.rest('user', body, '', KNOWN)
  return into.segments
}
