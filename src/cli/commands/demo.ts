import { EXIT } from '../../engine/exit-codes.js';
import { reportError } from '../errors.js';

/** `runbook demo reset`: throw the demo host's state away and stage a fresh incident. */
export async function demoResetCommand(flags: { json?: boolean }): Promise<number> {
  try {
    // Loaded on demand like --host demo: other commands never load the simulator.
    const { demoRoot, resetDemoHost } = await import('../../hosts/demo.js');
    const root = demoRoot();
    const manifest = await resetDemoHost(root);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, root, mailbox: manifest.mailbox, script: manifest.script.path, attackerIps: manifest.attackerIps }, null, 2)}\n`);
    } else {
      process.stdout.write(
        `Demo host reset: ${root}\nA fresh incident is staged: mailbox ${manifest.mailbox} sending spam, script ${manifest.script.path}.\nTry: runbook apply playbooks/spam-incident.yml --host demo --dry-run\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    return reportError(error, flags.json === true);
  }
}
