/**
 * docs/browser.md lists the request headers a page's CORS preflight must allow. A header the
 * client sends but the list leaves out fails every browser call at the preflight, so the list is
 * checked against what `createEncryptedFetch` actually sends: by pre-shared key and by key
 * agreement, JSON and streamed, with the default options.
 */
import { readFileSync } from 'node:fs'
import { AGREEMENT_KEY_PATH, Keyring } from 'continuum-proxy'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { describe, expect, it } from 'vitest'
import { KEY, KEY_ID } from '../conformance/support'

const doc = readFileSync(new URL('../../docs/browser.md', import.meta.url), 'utf8')
/** The `x-continuum-*` names of the bullet that starts "allow, in the preflight". */
const listed = new Set(
  (/^- allow, in the preflight,[\s\S]*?(?=^- )/m.exec(doc)?.[0] ?? '').match(/x-continuum-[a-z-]+/g) ?? [],
)

const agreement = new Keyring({
  agreementKeys: [{ id: 'a1', privateKey: Buffer.alloc(32, 7).toString('base64url') }],
})

/** Runs one request through the client and returns the x-continuum-* header names it sent. */
async function sentHeaders(options: Parameters<typeof createEncryptedFetch>[0], stream: boolean) {
  const sent = new Set<string>()
  const fetch = createEncryptedFetch({
    ...options,
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      if (url.pathname === AGREEMENT_KEY_PATH) return Response.json(agreement.published())
      for (const name of new Headers(init?.headers).keys())
        if (name.startsWith('x-continuum-')) sent.add(name)
      // Any answer will do: only the request's headers are read.
      return Response.json({ error: { message: 'no' } }, { status: 418 })
    },
  })
  await fetch('http://127.0.0.1:1/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', stream, messages: [{ role: 'user', content: 'hi' }] }),
  }).catch(() => undefined)
  return sent
}

describe("docs/browser.md's preflight header list", () => {
  it('names x-continuum- headers the page can send', () => {
    expect(listed.size).toBeGreaterThan(0)
  })

  const published = agreement.published()!
  for (const [mode, options] of [
    ['pre-shared key', { keyId: KEY_ID, key: KEY }],
    ['key agreement', { agreement: { fingerprint: published.fingerprint } }],
  ] as const) {
    for (const stream of [false, true]) {
      it(`holds every header the client sends (${mode}, ${stream ? 'stream' : 'JSON'})`, async () => {
        const sent = await sentHeaders(options, stream)
        expect(sent.size).toBeGreaterThan(3)
        for (const name of sent) expect(listed, `${name} is missing from docs/browser.md`).toContain(name)
      })
    }
  }
})
