/**
 * The sections and keys of `continuum.toml`, the configuration of `continuum-proxy serve`: for
 * each key its JSON Schema (with an `expect` phrase, so errors read `proxy.body_limit: must be a
 * positive integer`), what it does, its default, and whether it takes `env:` / `file:` secret
 * references. Validation, the option maps (option-sources.ts) and the generated reference
 * (docs/proxy-configuration.md) all read this one table. `[inference]` is the router
 * configuration, validated by `loadRouterConfig` and documented in docs/configuration.md.
 */

/** One key of a section. */
export interface ConfigField {
  /** JSON Schema of the value, with `expect` for error messages. */
  readonly schema: Record<string, unknown>
  /** What the key does (Markdown). */
  readonly doc: string
  /** The default, as the reference shows it. */
  readonly default?: string
  /** Strings in the value may be `env:NAME` or `file:/path` references, resolved at start (and on SIGHUP for [keys]). */
  readonly secret?: boolean
}

/** A section of the file. */
export interface ConfigSection {
  readonly name: string
  /** What the section is for (Markdown). */
  readonly doc: string
  readonly fields: Readonly<Record<string, ConfigField>>
}

const positiveInteger = { type: 'integer', minimum: 1, expect: 'a positive integer' }
const nonNegativeInteger = { type: 'integer', minimum: 0, expect: 'a non-negative integer' }
const text = { type: 'string', minLength: 1, expect: 'a non-empty string' }
const bool = { type: 'boolean', expect: 'true or false' }
const textList = { type: 'array', items: text, expect: 'an array of strings' }
const path = { type: 'string', pattern: '^/', expect: 'a path starting with "/"' }
const pathOrFalse = { anyOf: [path, { const: false }], expect: 'a path starting with "/", or false' }
const headerOrFalse = { anyOf: [text, { const: false }], expect: 'a header name, or false' }
const oneOf = (values: readonly string[]) => ({ enum: values, expect: `one of ${values.join(', ')}` })
const ROLES = ['system', 'user', 'assistant', 'tool', 'document'] as const
const roleList = { type: 'array', items: oneOf(ROLES), expect: `an array of ${ROLES.join(', ')}` }
const unit = { type: 'number', minimum: 0, maximum: 1, expect: 'a number from 0 to 1' }

/** Every section, in the order of the reference. */
export const CONFIG_SECTIONS: readonly ConfigSection[] = [
  {
    name: 'server',
    doc: 'Where the standalone server listens and how it stops.',
    fields: {
      listen: {
        schema: {
          type: 'string',
          pattern: '^(unix:/.+|\\[[0-9A-Fa-f:.]+\\]:\\d{1,5}|[A-Za-z0-9.-]+:\\d{1,5})$',
          expect: 'host:port, [ipv6]:port, or unix:/path/to.sock',
        },
        doc: 'The address: `host:port` (port `0` picks a free one), `[::1]:8080`, or `unix:/run/continuum.sock`. Only loopback by default: put a TLS-terminating load balancer in front, or listen on a Unix socket.',
        default: '`"127.0.0.1:8080"`',
      },
      socket_mode: {
        schema: { type: 'string', pattern: '^[0-7]{3}$', expect: 'three octal digits, e.g. "660"' },
        doc: 'File mode of the Unix socket, e.g. `"660"` for the owner and its group. The socket has it from the moment it has its name: it is bound in a private directory beside the path, given the mode there and renamed into place. A socket file nobody listens on (a crashed server\'s) is replaced; a live server\'s socket, a symlink or any other file at the path is refused and left alone.',
        default: 'as the umask leaves it',
      },
      shutdown_timeout_ms: {
        schema: positiveInteger,
        doc: 'On SIGTERM or SIGINT the server stops accepting connections and lets requests in flight (streams included) finish for at most this long, then closes what is left.',
        default: '`30000`',
      },
      keep_alive_timeout_ms: {
        schema: positiveInteger,
        doc: 'How long an idle keep-alive connection stays open.',
        default: '`5000`',
      },
      headers_timeout_ms: {
        schema: positiveInteger,
        doc: "Longest wait for a request's headers (node:http `headersTimeout`); the body is bounded by `proxy.body_idle_timeout_ms` and `proxy.body_timeout_ms`.",
        default: '`60000`',
      },
      request_timeout_ms: {
        schema: positiveInteger,
        doc: 'Longest time to receive a whole request (node:http `requestTimeout`; 408, then the connection is closed). It bounds the bodies the proxy does not read itself: a body trickled after a `GET /livez` answered 200, a pass-through upload. At least `headers_timeout_ms` and `proxy.body_timeout_ms`.',
        default: '`120000`, or the longer of those two',
      },
    },
  },
  {
    name: 'log',
    doc: 'JSON lines on standard output, one object per line (`time`, `level`, `msg` and content-free fields), as pino writes them. Never content or key material.',
    fields: {
      level: {
        schema: oneOf(['debug', 'info', 'warn', 'error', 'silent']),
        doc: 'The lowest level written.',
        default: '`"info"`',
      },
      access: {
        schema: bool,
        doc: "One line per request: method, route name, status, error code, duration, bytes, key id, request id. The key id and request id are the client's `x-continuum-key-id` and `x-request-id` headers (or a plain route's upstream `x-request-id`): claims, logged for refused requests too, each only in its expected shape (1–64 characters of `[A-Za-z0-9_-]`; 1–128 of `[A-Za-z0-9._:-]`) and left out otherwise ([security-operations.md](security-operations.md#the-access-log-ids-the-client-sent)).",
        default: '`false`',
      },
    },
  },
  {
    name: 'upstream',
    doc: 'The inference server, in proxy mode. Give `[upstream]` or `[inference]`, not both.',
    fields: {
      url: {
        schema: text,
        doc: "Base URL of the server, without a version segment: `http://127.0.0.1:8000`, not `…/v1` (the proxy forwards the client's whole route path).",
        default: '`http://localhost` with `socket_path`',
      },
      socket_path: { schema: text, doc: 'Unix socket of the server, e.g. `/run/vllm.sock`.' },
      connections: {
        schema: positiveInteger,
        doc: 'Most connections in the keep-alive pool.',
        default: '`128`',
      },
      connect_timeout_ms: { schema: positiveInteger, doc: 'Time to connect.', default: '`10000`' },
      headers_timeout_ms: {
        schema: positiveInteger,
        doc: 'Time until the response headers arrive (generation may start slowly).',
        default: '`300000`',
      },
      body_timeout_ms: {
        schema: positiveInteger,
        doc: 'Longest silence between two chunks of the response.',
        default: '`300000`',
      },
      headers: {
        schema: { type: 'object', additionalProperties: text, expect: 'a table of strings' },
        doc: 'Extra headers sent upstream, e.g. `{ authorization = "env:VLLM_BEARER" }` (the whole value, `Bearer …`, in the variable).',
        default: '`{}`',
        secret: true,
      },
    },
  },
  {
    name: 'proxy',
    doc: 'The pipeline: protocols, routing of unknown paths, limits and replay protection.',
    fields: {
      adapters: {
        schema: {
          type: 'array',
          items: oneOf(['openai', 'anthropic', 'tgi', 'ollama', 'triton']),
          minItems: 1,
          expect: 'an array of openai, anthropic, tgi, ollama, triton',
        },
        doc: 'The protocols served; only these claim routes.',
        default: '`["openai", "anthropic"]`',
      },
      encryption: {
        schema: oneOf(['required', 'optional']),
        doc: '`required` refuses requests without field encryption on encrypted routes; `optional` forwards them.',
        default: '`"required"` with keys, else `"optional"`',
      },
      unknown_routes: {
        schema: oneOf(['reject', 'next']),
        doc: 'A path no protocol serves: `reject` answers 501 CONTINUUM_ROUTE_NOT_SUPPORTED; `next` answers 404 (the standalone server has no host app to hand it to).',
        default: '`"reject"`',
      },
      pass_through: {
        schema: { type: 'array', items: path, expect: 'an array of paths starting with "/"' },
        doc: 'Path prefixes forwarded untouched, e.g. `["/metrics"]` of vLLM. Paths must be canonical (see docs/security-operations.md).',
        default: '`[]`',
      },
      body_limit: { schema: positiveInteger, doc: 'Largest request body, in bytes.', default: '`10485760`' },
      max_json_depth: {
        schema: positiveInteger,
        doc: 'Deepest nesting of a JSON request body.',
        default: '`64`',
      },
      body_idle_timeout_ms: {
        schema: positiveInteger,
        doc: 'Longest silence inside a request body (408 after it).',
        default: '`15000`',
      },
      body_timeout_ms: {
        schema: positiveInteger,
        doc: 'Longest time to receive a JSON body.',
        default: '`60000`',
      },
      response_limit: {
        schema: positiveInteger,
        doc: 'Largest JSON response buffered to re-encrypt, in bytes.',
        default: '`67108864`',
      },
      replay_window_ms: {
        schema: positiveInteger,
        doc: 'Accepted clock skew and nonce memory for replay protection.',
        default: '`300000`',
      },
      replay_capacity: {
        schema: positiveInteger,
        doc: 'Most nonces the in-process replay memory holds (unused with `[store]`).',
        default: '`1000000`',
      },
    },
  },
  {
    name: 'keys',
    doc: 'Field keys. Give key material by reference: `key = "env:CONTINUUM_KEY"`, `private_key = "file:/etc/continuum/agreement.pem"` (`continuum-proxy keygen field|agreement` makes them). SIGHUP reads this section again: a new first key (or `primary`) is rotated in and the previous one keeps decrypting for `grace_ms`; ids in `retired` are refused at once.',
    fields: {
      keys: {
        schema: {
          type: 'array',
          expect: 'an array of { id, key } tables',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'key'],
            expect: 'a table { id, key }',
            properties: {
              id: {
                type: 'string',
                pattern: '^[A-Za-z0-9_-]{1,64}$',
                expect: '1-64 characters of A-Z a-z 0-9 _ -',
              },
              key: text,
            },
          },
        },
        doc: 'Pre-shared keys `{ id, key }`, 32 bytes as base64url, base64 or hex. The first encrypts.',
        default: '`[]`',
        secret: true,
      },
      agreement_keys: {
        schema: {
          type: 'array',
          expect: 'an array of { id, private_key } tables',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'private_key'],
            expect: 'a table { id, private_key }',
            properties: {
              id: {
                type: 'string',
                pattern: '^[A-Za-z0-9_-]{1,64}$',
                expect: '1-64 characters of A-Z a-z 0-9 _ -',
              },
              private_key: text,
            },
          },
        },
        doc: 'X25519 keys `{ id, private_key }` (PEM or raw base64url) for key agreement; the first is published at `/.well-known/continuum-key`.',
        default: '`[]`',
        secret: true,
      },
      primary: {
        schema: text,
        doc: 'Id of the pre-shared key that encrypts.',
        default: 'the first of `keys`',
      },
      primary_agreement: {
        schema: text,
        doc: 'Id of the published agreement key.',
        default: 'the first of `agreement_keys`',
      },
      grace_ms: {
        schema: nonNegativeInteger,
        doc: 'How long a key keeps decrypting after it stops being primary.',
        default: '`86400000`',
      },
      max_agreed_keys: {
        schema: positiveInteger,
        doc: 'Most agreed keys cached (one per client ephemeral key).',
        default: '`10000`',
      },
      schedule_file: {
        schema: text,
        doc: 'A JSON key schedule (`{ "graceMs", "keys": [{ "id", "key" | "privateKey", "kind", "activatesAt" }] }`, see [deployment.md](deployment.md)) read again every `reload_interval_ms`: every instance switches keys at the same instants. Instead of `keys` and `agreement_keys`.',
      },
      reload_interval_ms: {
        schema: positiveInteger,
        doc: 'With `schedule_file`: how often it is read again.',
        default: '`5000`',
      },
      retired: {
        schema: textList,
        doc: 'Key ids refused at once (a compromised key), also on SIGHUP.',
        default: '`[]`',
      },
    },
  },
  {
    name: 'gateway',
    doc: 'How the router gateway reads callers (gateway mode only).',
    fields: {
      caller_id_header: {
        schema: headerOrFalse,
        doc: "Header whose value becomes the router request's caller id (for its classifier and your own providers): a client's claim, not an identity; `false` reads none. Credential and `x-continuum-` headers are refused.",
        default: '`"x-caller-id"`',
      },
      caller_id: { schema: text, doc: 'Caller id when the request names none.' },
      classification_header: {
        schema: headerOrFalse,
        doc: 'Header a trusted front end sets to `public`, `internal`, `confidential` or `restricted`.',
        default: '`false`',
      },
    },
  },
  {
    name: 'inference',
    doc: 'Gateway mode: the InferenceRouter, configured exactly as `loadRouterConfig` reads it (policies, providers, retries, breakers, aliases, secrets): see [configuration.md](configuration.md). Give `[inference]` or `[upstream]`, not both.',
    fields: {},
  },
  {
    name: 'telemetry',
    doc: 'Prometheus metrics, liveness and readiness endpoints, OpenTelemetry spans (the Telemetry stage). Present means on; needs the optional package prom-client (`npm install prom-client`).',
    fields: {
      metrics_path: {
        schema: pathOrFalse,
        doc: 'Path of the Prometheus endpoint, or `false`.',
        default: '`"/metrics"`',
      },
      liveness_path: {
        schema: pathOrFalse,
        doc: 'Path of the liveness endpoint, or `false`.',
        default: '`"/livez"`',
      },
      readiness_path: {
        schema: pathOrFalse,
        doc: 'Path of the readiness endpoint, or `false`.',
        default: '`"/readyz"`',
      },
      readiness_upstream_path: {
        schema: path,
        doc: 'Proxy mode: `/readyz` is ready while this path of the upstream answers 2xx (e.g. vLLM `/health`). Gateway mode always checks the router.',
      },
      readiness_cache_ms: {
        schema: nonNegativeInteger,
        doc: "Proxy mode: how long one probe of `readiness_upstream_path` is reused. `/readyz` needs no credentials, so requests that arrive while a probe runs share it, and a flood of `/readyz` sends the upstream at most one probe per this period (or per `readiness_timeout_ms`, the probe's own bound). `0` shares only the probe in flight. Gateway mode already shares one: the router reuses its health check for 5 s.",
        default: '`1000`',
      },
      readiness_timeout_ms: {
        schema: positiveInteger,
        doc: 'Time each readiness check may take; the shared upstream probe is aborted after it too.',
        default: '`2000`',
      },
      tracing: {
        schema: bool,
        doc: 'Spans through the global `@opentelemetry/api` tracer provider (none record until one is registered, e.g. by `--import` of your OTel setup).',
        default: '`true`',
      },
      otel_metrics: {
        schema: bool,
        doc: 'OpenTelemetry GenAI metrics (`gen_ai.client.token.usage`, ...) on the global meter provider of `@opentelemetry/api`; the Prometheus histograms are kept either way.',
        default: '`true`',
      },
      process_metrics: {
        schema: bool,
        doc: "prom-client's process and Node.js metrics (CPU, memory, event-loop lag) in the scrape.",
        default: '`false`',
      },
      provider: { schema: text, doc: 'The `provider` label, e.g. `vllm`.', default: "the adapter's name" },
      models: { schema: textList, doc: 'Model names allowed as label values; others count as `other`.' },
      max_model_labels: {
        schema: positiveInteger,
        doc: 'Most distinct model labels when `models` is not given; a name takes one only once a request for it was served.',
        default: '`100`',
      },
      metric_prefix: {
        schema: { type: 'string', expect: 'a string' },
        doc: 'Prefix of every metric name.',
        default: '`""`',
      },
      latency_buckets: {
        schema: {
          type: 'array',
          items: { type: 'number', exclusiveMinimum: 0 },
          minItems: 1,
          expect: 'an array of positive numbers',
        },
        doc: 'Buckets of `inference_latency_seconds`, in seconds.',
        default: '5 ms to 300 s',
      },
    },
  },
  {
    name: 'audit',
    doc: 'The tamper-evident audit log (the AuditStage over a signed JSON Lines file; see [audit.md](audit.md)). Present means on.',
    fields: {
      path: { schema: text, doc: 'The JSON Lines file; created when absent, appended to.' },
      private_key: {
        schema: text,
        doc: 'Ed25519 signing key, e.g. `"file:/etc/continuum/audit.key"` (`continuum-proxy keygen audit`).',
        secret: true,
      },
      fsync: {
        schema: oneOf(['always', 'never']),
        doc: 'Whether each batch is fsynced before it counts as written.',
        default: '`"always"`',
      },
      identity_header: {
        schema: text,
        doc: 'Header naming the caller (set by your authentication layer); credential headers are refused.',
        default: 'callers are `anonymous`',
      },
      content_digest: {
        schema: bool,
        doc: 'Record a keyed digest (HMAC-SHA-256) of each decrypted request.',
        default: '`true`',
      },
      content_digest_key: {
        schema: text,
        doc: 'Key of the digests (16 bytes or more), so an investigator can check them later.',
        default: 'a random per-process key',
        secret: true,
      },
      max_queue: {
        schema: positiveInteger,
        doc: 'Records queued before the overflow policy applies.',
        default: '`10000`',
      },
      overflow: {
        schema: oneOf(['drop_newest', 'drop_oldest']),
        doc: 'Which record a full queue drops.',
        default: '`"drop_newest"`',
      },
      max_batch: { schema: positiveInteger, doc: 'Records per write.', default: '`256`' },
      anchor: {
        schema: { type: 'string', pattern: '^[0-9a-f]{64}$', expect: '64 lower-case hex digits' },
        doc: '`prevHash` of the first record of a fresh log (the last hash of a rotated one).',
        default: '64 zeros',
      },
      max_field_length: { schema: positiveInteger, doc: 'Longer strings are cut.', default: '`512`' },
      retry_delay_ms: {
        schema: positiveInteger,
        doc: 'Delay before retrying a failed write.',
        default: '`1000`',
      },
    },
  },
  {
    name: 'scanner',
    doc: 'Prompt-injection scanning of every model-visible text (the ScannerStage; see [scanner.md](scanner.md)). Present means on.',
    fields: {
      action: {
        schema: oneOf(['block', 'warn', 'log']),
        doc: '`block` (403, nothing forwarded), `warn` (forward, add a response header) or `log` (audit fields only).',
        default: '`"block"`',
      },
      threshold: { schema: unit, doc: 'Score at or above which the action applies.', default: '`0.4`' },
      roles: { schema: roleList, doc: 'Roles of the text scanned.', default: 'every role' },
      risk_levels: {
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['low', 'medium', 'high'],
          expect: 'a table { low, medium, high }',
          properties: { low: unit, medium: unit, high: unit },
        },
        doc: 'Lower bounds of the `low`, `medium` and `high` risk levels.',
        default: '`{ low = 0.2, medium = 0.4, high = 0.7 }`',
      },
      model: {
        schema: bool,
        doc: 'Use the shipped classifier; `false` uses the patterns alone.',
        default: '`true`',
      },
      decode_payloads: {
        schema: bool,
        doc: 'Decode base64, hex, percent and ROT13 payloads and scan them too.',
        default: '`true`',
      },
      warn_header: {
        schema: text,
        doc: 'Response header of the `warn` action.',
        default: '`"x-continuum-prompt-risk"`',
      },
    },
  },
  {
    name: 'cache',
    doc: 'The encrypted response cache for deterministic requests (the CacheStage; see [cache.md](cache.md)). Present means on.',
    fields: {
      secret: {
        schema: text,
        doc: 'Server-side secret, 32 bytes, keying the cache keys and the at-rest encryption.',
        default: 'random per process',
        secret: true,
      },
      ttl_ms: { schema: positiveInteger, doc: 'How long an entry is served.', default: '`300000`' },
      max_bytes: {
        schema: positiveInteger,
        doc: 'Upper bound of all entries together.',
        default: '`67108864`',
      },
      max_entry_bytes: { schema: positiveInteger, doc: 'Largest response stored.', default: '`4194304`' },
      scope_headers: {
        schema: textList,
        doc: 'More request headers that tell callers apart, e.g. `["x-tenant-id"]`.',
        default: '`[]`',
      },
      routes: {
        schema: textList,
        doc: 'Cacheable routes as `adapter.route`, e.g. `openai.chat-completions`.',
        default: 'every cacheable route',
      },
      cache_non_deterministic: { schema: bool, doc: 'Also cache requests that sample.', default: '`false`' },
      shared: {
        schema: bool,
        doc: 'Keep the entries in `[store]` (sealed, under keys only the instances hold), so every instance answers from one cache; needs `secret`, the same on every instance.',
        default: '`false`',
      },
      local_ttl_ms: {
        schema: nonNegativeInteger,
        doc: 'With `shared`: how long an entry is also served from memory, saving a round trip.',
        default: '`0`',
      },
      store_failure: {
        schema: oneOf(['open', 'closed']),
        doc: 'With `shared`: when the store cannot answer, `open` forwards the request as a miss, `closed` refuses it with 503.',
        default: '`"open"`',
      },
      coalesce: {
        schema: bool,
        doc: 'Single flight for misses: identical requests arriving while the first is upstream wait for its answer instead of all going upstream (per process).',
        default: '`true`',
      },
      coalesce_max_waiters: {
        schema: positiveInteger,
        doc: 'Most requests waiting on one; the next ones go upstream on their own.',
        default: '`100`',
      },
      coalesce_max_wait_ms: {
        schema: positiveInteger,
        doc: 'Longest a request waits before it goes upstream on its own.',
        default: '`60000`',
      },
    },
  },
  {
    name: 'store',
    doc: "Shared state on Redis (`continuum-proxy/redis`, needs the `redis` package): the replay memory, so instances behind one load balancer refuse each other's replays, and with `cache.shared` the response cache. See [deployment.md](deployment.md).",
    fields: {
      url: {
        schema: text,
        doc: '`redis://[user:password@]host:port[/db]` or `rediss://…`; best as `"env:REDIS_URL"`.',
        secret: true,
      },
      cluster_nodes: { schema: textList, doc: 'Some nodes of a Redis Cluster, instead of `url`.' },
      prefix: { schema: text, doc: 'Prefix of every key.', default: '`"continuum:"`' },
      timeout_ms: { schema: positiveInteger, doc: 'Longest wait for one operation.', default: '`250`' },
      connect_timeout_ms: {
        schema: positiveInteger,
        doc: 'Longest wait for the first connection.',
        default: '`5000`',
      },
      max_reconnect_delay_ms: {
        schema: positiveInteger,
        doc: 'Longest pause between reconnection attempts.',
        default: '`2000`',
      },
    },
  },
]

/** A section by name. */
export function sectionOf(name: string): ConfigSection {
  const section = CONFIG_SECTIONS.find((candidate) => candidate.name === name)
  if (section === undefined) throw new Error(`no section ${name}`)
  return section
}
