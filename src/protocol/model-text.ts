/**
 * The text of a request that reaches the model, as an adapter declares it for the prompt
 * scanner: each piece with the role it plays (a user turn is direct injection, a tool result or a
 * retrieved document indirect injection) and the JSON Pointer where it sits, so a verdict can say
 * where an injection was found without quoting it.
 */

/** Where a piece of text came from. `document` is a retrieved document (RAG context). */
export type ModelTextRole = 'system' | 'user' | 'assistant' | 'tool' | 'document'

/** One piece of model-visible text. */
export interface ModelTextSegment {
  readonly role: ModelTextRole
  readonly text: string
  /** JSON Pointer of the member in the decrypted body, e.g. `/messages/2/content`. */
  readonly path: string
}
