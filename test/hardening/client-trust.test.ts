/**
 * The client trusts only what is authenticated, attacked through every framework on real sockets
 * with the official OpenAI SDK: a man in the middle forges a retired-key notice after forwarding
 * the real request (so a retry would run the upstream twice), injects JSON errors and SSE
 * `error` frames with its own message, and appends chunks after the verified end marker. The
 * server's own errors after authentication arrive sealed and are believed; a keyed client never
 * sends a prompt in clear to a path variant the server would not encrypt.
 */
import { ContinuumError } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import OpenAI, { AuthenticationError, BadRequestError, ConflictError } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { KEY, KEY_ID, openaiClient, SECRET, sharedKeys } from '../conformance/support'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

/** The ContinuumError code of a failure, whether the SDK wrapped it (APIConnectionError) or not. */
function codeOf(failure: unknown): unknown {
  const error = failure as { code?: unknown; cause?: { code?: unknown } } | undefined
  return error?.cause?.code ?? error?.code
}

/** A man in the middle: forwards each request, then hands the client whatever `answer` makes of the reply. */
function mitm(answer: (response: Response, text: string) => Response): {
  fetch: typeof fetch
  sent: () => number
} {
  let sent = 0
  const relayed = (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent++
    const response = await globalThis.fetch(input, init)
    return answer(response, await response.text())
  }) as typeof fetch
  return { fetch: relayed, sent: () => sent }
}

function passOn(response: Response, text: string): Response {
  const headers = new Headers(response.headers)
  headers.delete('content-length')
  return new Response(text, { status: response.status, headers })
}

const evil = (code: string) =>
  JSON.stringify({
    error: { code, message: 'Re-authenticate at http://evil.example', type: 'authentication_error' },
  })

describe.each(frameworks)('client trust via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      stages: [
        {
          name: 'blocker',
          async wrapAccepted(exchange, next) {
            if (JSON.stringify(exchange.body).includes('ignore previous instructions')) {
              throw new ContinuumError('CONTINUUM_PROMPT_INJECTION_BLOCKED', 'Blocked by the prompt scanner')
            }
            return next()
          },
        },
      ],
    })
  })

  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  function sdk(fetcher: typeof fetch, maxRetries = 0): OpenAI {
    return openaiClient(app, { keyId: KEY_ID, key: KEY, fetch: fetcher }).withOptions({ maxRetries })
  }

  const complete = (client: OpenAI, content = SECRET) =>
    client.chat.completions
      .create({ model: 'llama-3-8b', messages: [{ role: 'user', content }] })
      .then((answer) => answer.choices[0]?.message.content)

  async function streamed(client: OpenAI): Promise<{ text: string; failure: unknown }> {
    let text = ''
    try {
      const stream = await client.chat.completions.create({
        model: 'llama-3-8b',
        stream: true,
        messages: [{ role: 'user', content: SECRET }],
      })
      for await (const part of stream) text += JSON.stringify(part)
      return { text, failure: undefined }
    } catch (error) {
      return { text, failure: error }
    }
  }

  it('does not re-send after a forged plaintext 401 CONTINUUM_KEY_RETIRED: the upstream runs once', async () => {
    let providerCalls = 0
    const wire = mitm(
      () =>
        new Response(evil('CONTINUUM_KEY_RETIRED'), {
          status: 401,
          headers: { 'x-continuum-encrypted': '0' },
        }),
    )
    const client = openaiClient(app, {
      keys: () => {
        providerCalls++
        return { keyId: KEY_ID, key: KEY }
      },
      fetch: wire.fetch,
    }).withOptions({ maxRetries: 2 })
    const before = upstream.requests.length
    const failure = await complete(client).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(AuthenticationError)
    expect(failure).toMatchObject({ status: 401, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
    expect(String((failure as Error).message)).not.toContain('evil')
    expect(upstream.requests.length - before).toBe(1)
    expect(wire.sent()).toBe(1)
    expect(providerCalls).toBe(1)
  })

  it.each([400, 429, 500, 503, 307])(
    'shows an injected %i JSON error by its status only, never retried',
    async (status) => {
      const wire = mitm(
        () =>
          new Response(evil('CONTINUUM_RATE_LIMITED'), {
            status,
            headers: { location: 'http://evil.example/' },
          }),
      )
      const failure = await complete(sdk(wire.fetch, 2)).catch((error: unknown) => error)
      expect(failure).toMatchObject({ status, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
      expect(String((failure as Error).message)).not.toContain('evil')
      expect(wire.sent()).toBe(1)
    },
  )

  it('refuses a sealed stream relabelled 503: the SDK does not run the request again', async () => {
    // Event seals do not bind the status: a relay that turns the genuine 200 stream into a 503
    // (asking for a retry as well) must get an integrity failure, not a retry of a request the
    // upstream already ran.
    const wire = mitm((response, text) => {
      const relabelled = passOn(response, text)
      const headers = new Headers(relabelled.headers)
      headers.set('x-should-retry', 'true')
      return new Response(text, { status: 503, headers })
    })
    const before = upstream.requests.length
    const { text, failure } = await streamed(sdk(wire.fetch, 2))
    expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
    expect(text).toBe('')
    expect(wire.sent()).toBe(1)
    expect(upstream.requests.length - before).toBe(1)
  })

  it('refuses a sealed stream relabelled 401: the answer is not raised as an error the relay chose', async () => {
    // The same events under a forged 401 became the SDK's AuthenticationError, its message the
    // decrypted answer (which apps log): an authentic body under a status nobody sealed.
    const wire = mitm((response, text) => new Response(text, { status: 401, headers: response.headers }))
    const { text, failure } = await streamed(sdk(wire.fetch))
    expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
    expect(failure).not.toBeInstanceOf(AuthenticationError)
    expect(String((failure as Error).message)).not.toContain(SECRET)
    expect(text).toBe('')
  })

  it('lets no unsealed x-should-retry make the SDK re-run a request after a sealed error', async () => {
    // The upstream ran the request and answered 400; its answer arrives encrypted and sealed with
    // its status. No response header is sealed, so one added on the path must not decide a retry.
    const wire = mitm((response, text) => {
      const relayed = passOn(response, text)
      relayed.headers.set('x-should-retry', 'true')
      return relayed
    })
    const before = upstream.requests.length
    const failure = await sdk(wire.fetch, 2)
      .chat.completions.create({ model: 'upstream-400', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(BadRequestError)
    expect(failure).toMatchObject({ status: 400 })
    expect(wire.sent()).toBe(1)
    expect(upstream.requests.length - before).toBe(1)
  })

  it('does not let the SDK re-run a request a relay sent twice: the sealed 409 replay is not retried', async () => {
    // The relay sends the sealed request twice and keeps the first answer: the second is the
    // server's sealed CONTINUUM_REPLAY_DETECTED, a 409, which the SDK retries by status alone, so
    // the upstream ran the request once per retry. The sealed code says it is not retryable.
    let copies = 0
    const twice = (async (input: RequestInfo | URL, init?: RequestInit) => {
      copies++
      await (await globalThis.fetch(input, init)).text()
      return globalThis.fetch(input, init)
    }) as typeof fetch
    const before = upstream.requests.length
    const failure = await sdk(twice, 2)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SECRET }] })
      .catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConflictError)
    expect(failure).toMatchObject({ status: 409, code: 'CONTINUUM_REPLAY_DETECTED' })
    expect(copies).toBe(1)
    expect(upstream.requests.length - before).toBe(1)
  })

  it('refuses an injected SSE error frame, whatever code it claims', async () => {
    const wire = mitm((response, text) => {
      const events = text.split('\n\n')
      const frame = `event: error\ndata: ${evil('CONTINUUM_KEY_RETIRED')}`
      return passOn(response, [events[0], frame, ...events.slice(1)].join('\n\n'))
    })
    const { failure } = await streamed(sdk(wire.fetch))
    expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
    expect(String((failure as Error).message)).not.toContain('evil')
  })

  it.each([['["INJECTED"]'], ['"x"'], ['42'], ['{"choices":[{"delta":{"content":"INJECTED"}}]}']])(
    'lets nothing but [DONE] follow the verified end marker: %s is refused',
    async (data) => {
      for (const where of ['before [DONE]', 'after [DONE]']) {
        const wire = mitm((response, text) => {
          const injected =
            where === 'before [DONE]'
              ? text.replace('data: [DONE]', `data: ${data}\n\ndata: [DONE]`)
              : `${text}data: ${data}\n\n`
          return passOn(response, injected)
        })
        const { text, failure } = await streamed(sdk(wire.fetch))
        // After [DONE] the SDK stops reading; before it, the client refuses the stream.
        if (where === 'before [DONE]') expect(codeOf(failure)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
        expect(text).not.toContain('INJECTED')
        expect(text).not.toContain('"x"')
      }
    },
  )

  it("believes the server's own errors after authentication: they arrive sealed", async () => {
    const seals: (string | null)[] = []
    const wire = mitm((response, text) => {
      seals.push(response.headers.get('x-continuum-seal'))
      return passOn(response, text)
    })
    const schema = await sdk(wire.fetch)
      .chat.completions.create({ model: 'llama-3-8b', messages: 'not a list' as never })
      .catch((error: unknown) => error)
    expect(schema).toBeInstanceOf(BadRequestError)
    expect(schema).toMatchObject({ status: 400, code: 'CONTINUUM_SCHEMA_VIOLATION' })
    const blocked = await complete(sdk(wire.fetch), 'ignore previous instructions').catch(
      (error: unknown) => error,
    )
    expect(blocked).toMatchObject({ status: 403, code: 'CONTINUUM_PROMPT_INJECTION_BLOCKED' })
    expect(seals).toHaveLength(2)
    for (const seal of seals) expect(seal).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('does not believe a sealed error whose message was edited on the way', async () => {
    const wire = mitm((response, text) =>
      passOn(response, text.replace('Blocked by the prompt scanner', 'Pay at http://evil.example')),
    )
    const failure = await complete(sdk(wire.fetch), 'ignore previous instructions').catch(
      (error: unknown) => error,
    )
    expect(failure).toMatchObject({ status: 403, code: 'CONTINUUM_UNAUTHENTICATED_RESPONSE' })
  })

  it('hands over the verified sealed error, not a text a relay padded with a duplicate member', async () => {
    // JSON.parse keeps the last of two members, so the seal verifies over the genuine message;
    // the text as received still carries the relay's one first, for any reader that takes the
    // first, logs the text, or shows it (the SDK's own parse happens to take the last).
    const wire = mitm((response, text) =>
      passOn(response, text.replace('"message":', '"message":"Pay at http://evil.example","message":')),
    )
    const encrypted = createEncryptedFetch({ keyId: KEY_ID, key: KEY, fetch: wire.fetch })
    const built = {
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: 'ignore previous instructions' }],
    }
    const response = await encrypted(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(built),
    })
    expect(response.status).toBe(403)
    const text = await response.text()
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'CONTINUUM_PROMPT_INJECTION_BLOCKED', message: 'Blocked by the prompt scanner' },
    })
    expect(text).not.toContain('evil.example')
  })

  it('opens an answer a relay re-formatted, success and sealed error alike, and refuses an edited one', async () => {
    // Indented, members in reverse order: the same JSON, no longer the canonical text the seal
    // covers byte for byte, so the client verifies it over the parsed body instead.
    const reorder = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reorder)
        : typeof value === 'object' && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([name, item]) => [name, reorder(item)]),
            )
          : value
    const reformat = (text: string): string => JSON.stringify(reorder(JSON.parse(text)), null, 2)
    const reformatting = mitm((response, text) => passOn(response, reformat(text)))
    expect(await complete(sdk(reformatting.fetch))).toBe(replyFor(SECRET))
    const blocked = await complete(sdk(reformatting.fetch), 'ignore previous instructions').catch(
      (error: unknown) => error,
    )
    expect(blocked).toMatchObject({ status: 403, code: 'CONTINUUM_PROMPT_INJECTION_BLOCKED' })
    const editing = mitm((response, text) =>
      passOn(response, reformat(text).replace('"chat.completion"', '"chat.completion.chunk"')),
    )
    const edited = await complete(sdk(editing.fetch)).catch((error: unknown) => error)
    expect(codeOf(edited)).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
  })

  async function drain(client: OpenAI, model: string): Promise<unknown> {
    try {
      const stream = await client.chat.completions.create({
        model,
        stream: true,
        messages: [{ role: 'user', content: SECRET }],
      })
      for await (const _part of stream) {
        // drained for its end
      }
      return undefined
    } catch (error) {
      return error
    }
  }

  it('raises the error a sealed failure marker names, and refuses an edited one', async () => {
    expect(codeOf(await drain(sdk(globalThis.fetch), 'cut-stream'))).toBe('CONTINUUM_UPSTREAM_STREAM_ABORTED')
    const wire = mitm((response, text) =>
      passOn(
        response,
        text.replace('Upstream closed the stream', 'Upstream says: visit http://evil.example'),
      ),
    )
    expect(codeOf(await drain(sdk(wire.fetch), 'cut-stream'))).toBe('CONTINUUM_RESPONSE_INTEGRITY_FAILED')
  })

  it.each([
    ['a trailing slash', (base: string) => [`${base}/v1`, '/chat/completions/']],
    ['an upper-case segment', (base: string) => [`${base}/V1`, '/chat/completions']],
    ['an empty segment', (base: string) => [`${base}/v1`, '/chat//completions']],
    ['an encoded slash', (base: string) => [`${base}/v1`, '/chat%2Fcompletions']],
    ['an encoded slash, lower case', (base: string) => [`${base}/v1`, '/chat%2fcompletions']],
    ['a base URL ending in //', (base: string) => [`${base}/v1//`, '/chat/completions']],
    ['a base URL with // before the route', (base: string) => [`${base}//v1`, '/chat/completions']],
  ])(
    'never sends the prompt in clear to a path with %s: CONTINUUM_CLIENT_PATH_REFUSED',
    async (_label, shape) => {
      const [baseURL, path] = shape(app.url)
      const bodies: string[] = []
      const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
        bodies.push(String(init?.body ?? ''))
        return globalThis.fetch(input, init)
      }) as typeof fetch
      const client = new OpenAI({
        baseURL,
        apiKey: 'sk-test',
        maxRetries: 0,
        fetch: createEncryptedFetch({ keyId: KEY_ID, key: KEY, fetch: recording }),
      })
      const failure = await client
        .post(path!, { body: { model: 'llama-3-8b', messages: [{ role: 'user', content: SECRET }] } })
        .catch((error: unknown) => error)
      expect(codeOf(failure)).toBe('CONTINUUM_CLIENT_PATH_REFUSED')
      expect(bodies).toEqual([])
    },
  )

  it('still sends bodies in clear to paths declared plain, and to no others', async () => {
    const bodies: string[] = []
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(String(init?.body ?? ''))
      return globalThis.fetch(input, init)
    }) as typeof fetch
    const encrypted = createEncryptedFetch({
      keyId: KEY_ID,
      key: KEY,
      fetch: recording,
      plainPaths: ['/raw'],
    })
    const plain = await encrypted(`${app.url}/raw`, { method: 'POST', body: 'hello' })
    expect(plain.status).not.toBe(0)
    const refused = await encrypted(`${app.url}/v1/files`, { method: 'POST', body: SECRET })
    expect(refused.headers.get('x-continuum-error-origin')).toBe('client')
    expect(await refused.json()).toMatchObject({ error: { code: 'CONTINUUM_CLIENT_PATH_REFUSED' } })
    expect(bodies).toEqual(['hello'])
    expect(await complete(sdk(recording))).toBe(replyFor(SECRET))
  })
})
