import { existsSync } from 'node:fs';

/** Debian's clamav package (clamscan, no signatures: the tests write their own). */
export const CLAMSCAN = '/usr/bin/clamscan';

/**
 * For `describe.runIf(requireClamscan())`: true when Debian's clamscan is installed; under CI a
 * missing one throws, so the suite fails instead of silently skipping.
 */
export function requireClamscan(): boolean {
  const ok = existsSync(CLAMSCAN);
  if (!ok && process.env['CI']) throw new Error(`real ClamAV is required under CI: ${CLAMSCAN} missing (apt-get install clamav)`);
  return ok;
}
