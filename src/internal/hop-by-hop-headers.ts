/**
 * The headers that belong to one HTTP connection, not to the message: the hop-by-hop headers of
 * RFC 9110 §7.6.1 (and the obsolete `proxy-connection`, `keep-alive` and HTTP/2's
 * `http2-settings`), and `host`, which names the hop it was sent to. Any hop may rewrite or drop
 * them, so the proxy never forwards them and a request seal never covers them; both lists start
 * from this one.
 */
export const HOP_BY_HOP_HEADERS: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'http2-settings',
]
