import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeSshBinding, sshBindingPath } from '../../src/transport/ssh-native.js';

describe("ssh2's native crypto binding", () => {
  it('loads in the Node that runs runbook (the install built it for this Node)', () => {
    const probe = probeSshBinding();
    expect(probe.reason).toBeUndefined();
    expect(probe).toEqual({ loaded: true, path: sshBindingPath() });
  });

  it('says why when it is missing or cannot be loaded, and how to rebuild it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-binding-'));
    const missing = probeSshBinding(join(dir, 'sshcrypto.node'));
    expect(missing.loaded).toBe(false);
    expect(missing.reason).toMatch(/^not built .*node \/.*scripts\/native-addons\.cjs$/);
    const broken = join(dir, 'broken.node');
    writeFileSync(broken, 'not an ELF file');
    const bad = probeSshBinding(broken);
    expect(bad.loaded).toBe(false);
    expect(bad.reason).toMatch(/^cannot be loaded: .*; rebuild it for the Node that runs runbook: node \//);
  });
});
