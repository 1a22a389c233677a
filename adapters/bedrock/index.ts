/** AWS Bedrock (Converse, ConverseStream): the router's provider client. */

export { bedrockProviderFactory } from './provider/config'
export { type BedrockProviderOptions, bedrock } from './provider/provider'
export type { AwsCredentials, AwsCredentialsSource } from './provider/signing'
