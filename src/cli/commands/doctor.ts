import { EXIT } from '../../engine/exit-codes.js';
import { nativeCounter } from '../../remote/native-count.js';
import { probeSshBinding, type NativeBinding } from '../../transport/ssh-native.js';
import { VERSION } from '../version.js';

/** What runbook runs on: the facts an operator needs when SSH is slow or a command misbehaves. */
export interface RuntimeReport {
  runbook: string;
  node: { version: string; binary: string };
  sshNativeCrypto: NativeBinding;
  /** What counts an SSH target's main log: the native counter built here, or perl there. */
  targetCounter: { native: true; size: number; sha256: string } | { native: false; reason: string };
}

export function runtimeReport(): RuntimeReport {
  const counter = nativeCounter();
  return {
    runbook: VERSION,
    node: { version: process.versions.node, binary: process.execPath },
    sshNativeCrypto: probeSshBinding(),
    targetCounter: counter !== null
      ? { native: true, size: counter.size, sha256: counter.sha256 }
      : { native: false, reason: 'not built (npm run build makes it when wasm2c and gcc are installed: Debian packages wabt, gcc, libc6-dev, zlib1g-dev); SSH targets are counted with perl, at several times the CPU' },
  };
}

export function renderRuntimeReport(r: RuntimeReport): string {
  const ssh = r.sshNativeCrypto;
  return [
    `runbook ${r.runbook}`,
    `node    ${r.node.version} (${r.node.binary})`,
    `ssh2 native crypto: ${ssh.loaded ? `loaded (${ssh.path})` : `NOT loaded, SSH uses slower pure-JS ciphers: ${ssh.reason ?? ''}`}`,
    `target counter: ${r.targetCounter.native ? `native, uploaded per run (${r.targetCounter.size} bytes, sha256 ${r.targetCounter.sha256})` : r.targetCounter.reason}`,
  ].join('\n');
}

/** `runbook doctor` and `runbook --version -v`: exit 0 with everything in place, 1 otherwise. */
export function doctorCommand(flags: { json?: boolean }): number {
  const report = runtimeReport();
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderRuntimeReport(report)}\n`);
  return report.sshNativeCrypto.loaded ? EXIT.ok : EXIT.failed;
}
