import { EXIT } from '../../engine/exit-codes.js';
import { probeSshBinding, type NativeBinding } from '../../transport/ssh-native.js';
import { VERSION } from '../version.js';

/** What runbook runs on: the facts an operator needs when SSH is slow or a command misbehaves. */
export interface RuntimeReport {
  runbook: string;
  node: { version: string; binary: string };
  sshNativeCrypto: NativeBinding;
}

export function runtimeReport(): RuntimeReport {
  return { runbook: VERSION, node: { version: process.versions.node, binary: process.execPath }, sshNativeCrypto: probeSshBinding() };
}

export function renderRuntimeReport(r: RuntimeReport): string {
  const ssh = r.sshNativeCrypto;
  return [
    `runbook ${r.runbook}`,
    `node    ${r.node.version} (${r.node.binary})`,
    `ssh2 native crypto: ${ssh.loaded ? `loaded (${ssh.path})` : `NOT loaded, SSH uses slower pure-JS ciphers: ${ssh.reason ?? ''}`}`,
  ].join('\n');
}

/** `runbook doctor` and `runbook --version -v`: exit 0 with everything in place, 1 otherwise. */
export function doctorCommand(flags: { json?: boolean }): number {
  const report = runtimeReport();
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderRuntimeReport(report)}\n`);
  return report.sshNativeCrypto.loaded ? EXIT.ok : EXIT.failed;
}
