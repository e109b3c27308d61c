import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

describe.runIf(sshAvailable || process.env.CI)('SSH transport against a real sshd', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(1);
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('runs argv by key and reuses one connection', async () => {
    const t = fleet.transport(fleet.hosts[0]!);
    try {
      const a = await t.exec(['printf', '%s|', 'a b', "it's"]);
      expect(a.exitCode).toBe(0);
      expect(a.stdout).toBe("a b|it's|");
      const before = t.stats().bytesIn;
      const b = await t.exec(['id', '-u']);
      expect(b.stdout.trim()).toBe('0');
      expect(t.stats().bytesIn).toBeGreaterThan(before);
    } finally {
      await t.close();
    }
  });
});
