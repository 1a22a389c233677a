/** Configuration loading: the router's TOML/JSON config and secret references. */
export { type LoadRouterConfigOptions, loadRouterConfig } from './load-router-config'
export { PROVIDER_SETTING_KEYS, ROUTING_POLICIES, routerConfigSchema } from './router-config-schema'
export { isSecretReference, resolveSecret, type SecretSources } from './secrets'
