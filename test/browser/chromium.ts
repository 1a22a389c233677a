/**
 * A real headless Chromium for the browser tests: Debian's `chromium` package (installed for
 * `./dev test` by scripts/ensure-system-packages.sh), driven by playwright-core through its
 * executablePath. No browser is ever downloaded. The test page is served from its own loopback
 * origin, so every call to the middleware is cross-origin, as from a real web application.
 */
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CONTINUUM_CHROMIUM ?? '/usr/bin/chromium'

/** Launches headless Chromium; fails with a message naming the Debian package when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: install Debian's chromium package (scripts/ensure-system-packages.sh does it for ./dev test)`,
    )
  }
  // Root in a container has no user namespace for Chromium's sandbox; the page only runs our bundle.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] })
}

/** A page served from its own origin with one ES module bundle. */
export interface TestPage {
  page: Page
  /** The page's origin, e.g. `http://127.0.0.1:41234`. */
  origin: string
  close(): Promise<void>
}

/**
 * Headers that make the page cross-origin isolated. Chromium then times `performance.now()` to
 * 5 µs instead of 100 µs, which a benchmark needs; a page that calls other origins should not ask
 * for it (every resource it loads must then opt in).
 */
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
}

/**
 * Serves `code` as /app.js under a blank page, opens it, and waits until the module ran;
 * `isolated` serves it cross-origin isolated (see {@link ISOLATION}).
 */
export async function openTestPage(
  browser: Browser,
  code: string,
  options: { isolated?: boolean } = {},
): Promise<TestPage> {
  const isolation = options.isolated === true ? ISOLATION : {}
  const server: Server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...isolation })
      response.end(code)
      return
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...isolation })
    response.end(
      '<!doctype html><meta charset="utf-8"><title>continuum</title><script type="module" src="/app.js"></script>',
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  await page.goto(`${origin}/`)
  await page
    .waitForFunction(() => (globalThis as { continuumReady?: boolean }).continuumReady === true, undefined, {
      timeout: 15_000,
    })
    .catch((error: unknown) => {
      throw new Error(`the test page did not start: ${errors.join('; ') || String(error)}`)
    })
  return {
    page,
    origin,
    async close() {
      await page.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
