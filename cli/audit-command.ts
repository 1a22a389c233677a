/** The `continuum-proxy audit` group: verify a log, generate a signing key pair. */
import { auditKeygenCommand } from './audit-keygen-command'
import { auditVerifyCommand } from './audit-verify-command'
import { commandGroup } from './cli-command'

export const auditCommand = commandGroup('audit', 'verify tamper-evident audit logs, make signing keys', [
  auditVerifyCommand,
  auditKeygenCommand,
])
