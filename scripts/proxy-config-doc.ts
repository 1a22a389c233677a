/** Regenerates docs/proxy-configuration.md from the serve configuration schema: `npx tsx scripts/proxy-config-doc.ts`. */
import { writeFileSync } from 'node:fs'
import { renderProxyConfigDoc } from '../cli/serve/config-doc'

writeFileSync(new URL('../docs/proxy-configuration.md', import.meta.url), renderProxyConfigDoc())
