/** The `continuum-proxy audit` group: verify a log, generate a signing key pair. */
import { auditKeygenCommand } from './audit-keygen-command'
import { auditVerifyCommand } from './audit-verify-command'
import { commandGroup } from './cli-command'
import { AUDIT } from './command-names'

export const auditCommand = commandGroup(AUDIT.name, AUDIT.summary, [auditVerifyCommand, auditKeygenCommand])
