import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, sshAvailable, type SshTestFleet } from '../support/ssh-hosts.js';

describe.runIf(sshAvailable || process.env.CI)('SSH transport under load', () => {
  let fleet: SshTestFleet;
  beforeAll(async () => {
    fleet = await startSshHosts(10, { namePrefix: 'load' });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  // Regression: when a whole exec exchange arrives in one read, the exit status must still be
  // reported (it once came back null under load).
  it('every command of many hosts at once reports its exit status', async () => {
    const results = await Promise.all(
      fleet.hosts.map(async (h, i) => {
        const t = fleet.transport(h);
        try {
          const codes: Array<number | null> = [];
          for (let k = 0; k < 6; k++) {
            const [a, b] = await Promise.all([t.exec(['sh', '-c', `exit ${(i + k) % 5}`]), t.exec(['printf', 'x'])]);
            codes.push(a.exitCode, b.exitCode);
            expect(b.stdout).toBe('x');
          }
          return codes;
        } finally {
          await t.close();
        }
      }),
    );
    results.forEach((codes, i) => {
      expect(codes).toEqual(Array.from({ length: 6 }, (_, k) => [(i + k) % 5, 0]).flat());
    });
  });
});
