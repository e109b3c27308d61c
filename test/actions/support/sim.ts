import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostLayout, ToolPaths } from '../../../src/hosts/types.js';
import { createSimHost } from '../../../fixtures/sim/host.mjs';

export interface SimHost {
  root: string;
  tools: ToolPaths;
  layout: HostLayout;
  env: Record<string, string>;
  spoolDir: string;
  callLog: string;
  cleanup(): void;
}

/** A simulated cPanel host root (fixtures/sim) in a fresh temp dir. */
export function simHost(options: Record<string, unknown> = {}): SimHost {
  const root = mkdtempSync(join(tmpdir(), 'runbook-actions-'));
  // Exim drops to its own user: it must be able to walk into the root.
  chmodSync(root, 0o755);
  const info = createSimHost({ root, ...options }) as Omit<SimHost, 'cleanup'>;
  return {
    ...info,
    layout: { ...info.layout, emailSendLimitsDir: join(root, 'var/cpanel/email_send_limits') },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
