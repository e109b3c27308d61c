import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * A program to run: `override` when given (a path, or `off` for none), else the first `name` on
 * PATH that may be executed, else undefined. Optional tools (ssh, ansible-inventory) are found
 * this way so tests and operators can point at another copy or switch one off.
 */
export function findExecutable(name: string, override?: string, path = process.env.PATH ?? ''): string | undefined {
  if (override === 'off') return undefined;
  if (override) return override;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
