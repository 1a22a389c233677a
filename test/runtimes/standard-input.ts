/** Standard input as text in Deno or Bun, for scripts bundled for them (no Node API). */

const runtime = globalThis as unknown as {
  Deno?: { stdin: { readable: ReadableStream<Uint8Array> } }
  Bun?: { stdin: { text(): Promise<string> } }
}

/** All of standard input; throws outside Deno and Bun. */
export function standardInput(): Promise<string> {
  if (runtime.Deno !== undefined) return new Response(runtime.Deno.stdin.readable).text()
  if (runtime.Bun !== undefined) return runtime.Bun.stdin.text()
  throw new Error('standard input is read here only under Deno or Bun')
}
