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

/** Serves `code` as /app.js under a blank page, opens it, and waits until the module ran. */
export async function openTestPage(browser: Browser, code: string): Promise<TestPage> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' })
      response.end(code)
      return
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
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
