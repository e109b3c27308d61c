import { describe, expect, it } from 'vitest';
import { batchSizes, scheduleHosts } from '../../src/fleet/scheduler.js';

type R = { host: string; status: 'ok' | 'failed' | 'skipped'; reason?: string };

/** Work that records concurrency and finishes when released, so order is controlled. */
function harness(fails: Set<string> = new Set()) {
  let running = 0;
  let peak = 0;
  const startedOrder: string[] = [];
  const work = async (host: string): Promise<R> => {
    startedOrder.push(host);
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setImmediate(r));
    running--;
    return { host, status: fails.has(host) ? 'failed' : 'ok' };
  };
  return { work, startedOrder, peak: () => peak };
}

const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);
const skipped = (host: string, reason: string): R => ({ host, status: 'skipped', reason });

describe('scheduleHosts', () => {
  it('never runs more than forks hosts at once and returns results in host order', async () => {
    const h = harness();
    const out = await scheduleHosts(hosts, { forks: 3 }, h.work, skipped);
    expect(out.map((r) => r.host)).toEqual(hosts);
    expect(h.peak()).toBe(3);
  });

  it('splits serial batches with a canary first, the last size repeating', () => {
    expect(batchSizes(10, [1, 3])).toEqual([1, 3, 3, 3]);
    expect(batchSizes(10, 4)).toEqual([4, 4, 2]);
    expect(batchSizes(5, undefined)).toEqual([5]);
    expect(batchSizes(0, [1])).toEqual([]);
  });

  it('a failed canary over the threshold starts no other host', async () => {
    const h = harness(new Set(['h0']));
    const out = await scheduleHosts(hosts, { forks: 10, serial: [1, 5], maxFailPercent: 0 }, h.work, skipped);
    expect(h.startedOrder).toEqual(['h0']);
    expect(out[0]!.status).toBe('failed');
    expect(out.slice(1).every((r) => r.status === 'skipped')).toBe(true);
    expect(out[1]!.reason).toMatch(/1 of 1 hosts finished so far failed \(100%\), above --max-fail-percent 0/);
  });

  it('stops starting hosts once the failure percentage of finished hosts crosses the limit', async () => {
    const h = harness(new Set(['h1', 'h2']));
    const out = await scheduleHosts(hosts, { forks: 1, maxFailPercent: 40 }, h.work, skipped);
    // h0 ok (0%), h1 failed (50% > 40) → stop
    expect(h.startedOrder).toEqual(['h0', 'h1']);
    expect(out.filter((r) => r.status === 'skipped')).toHaveLength(8);
  });

  it('below the limit every host runs', async () => {
    const h = harness(new Set(['h3']));
    const out = await scheduleHosts(hosts, { forks: 2, maxFailPercent: 50 }, h.work, skipped);
    expect(out.filter((r) => r.status === 'skipped')).toHaveLength(0);
    expect(h.startedOrder).toHaveLength(10);
  });

  it("one host's thrown error does not stop the others", async () => {
    const work = async (host: string): Promise<R> => {
      if (host === 'h2') throw new Error('boom');
      return { host, status: 'ok' };
    };
    const out = await scheduleHosts(hosts, {
      forks: 4,
      onError: (host, error): R => ({ host: host as string, status: 'failed', reason: (error as Error).message }),
    }, work);
    expect(out.filter((r) => r.status === 'ok')).toHaveLength(9);
    expect(out[2]).toEqual({ host: 'h2', status: 'failed', reason: 'boom' });
    await expect(scheduleHosts(hosts, { forks: 4 }, work)).rejects.toThrow('boom');
  });

  it('without onNotStarted, hosts never started are left out', async () => {
    const h = harness(new Set(['h0']));
    const out = await scheduleHosts(hosts, { forks: 1, maxFailPercent: 0 }, h.work);
    expect(out.map((r) => r.host)).toEqual(['h0']);
  });
});
