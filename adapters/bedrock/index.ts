/** AWS Bedrock (Converse, ConverseStream): the router's provider client. */
export { type BedrockProviderOptions, bedrock } from './provider'
export { bedrockProviderFactory } from './provider-config'
export type { AwsCredentials, AwsCredentialsSource } from './provider-signing'
