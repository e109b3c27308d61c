import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoManifest, resetDemoHost } from '../../src/hosts/demo.js';

/**
 * A fresh demo host and a one-gate playbook for it: confirm, then chmod 000 the spam script.
 * Its state lives under `env.XDG_STATE_HOME`, so each test has its own demo host.
 */
export async function demoContainScript(prefix: string) {
  const base = mkdtempSync(join(tmpdir(), prefix));
  const root = join(base, 'state', 'runbook', 'demo');
  await resetDemoHost(root);
  const script = demoManifest(root)!.script.path;
  const playbook = join(base, 'contain.yml');
  writeFileSync(
    playbook,
    `name: contain-script
steps:
  - id: ask
    action: confirm
    with: { message: "chmod 000 the spam script?" }
  - id: disable
    name: Disable the spam script
    action: file.disable
    with: { path: ${JSON.stringify(script)} }
`,
  );
  return { base, root, playbook, script, env: { XDG_STATE_HOME: join(base, 'state') }, auditDir: join(base, 'audit') };
}
