// `runbook watch` as an operator (or systemd) runs it: the built CLI, killed with SIGKILL and
// started again, stopped with SIGTERM, run from cron with --once; its exit codes. Waits are on
// the lines the CLI prints (--json -v reports each read position) and on process exits.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from '../cli/run-cli.js';
import { authArrival, delivery, iso, text } from './lines.js';

let dir: string;
let mainlog: string;
let config: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runbook-watch-cli-'));
  mainlog = join(dir, 'exim_mainlog');
  config = join(dir, 'watch.yml');
  writeFileSync(mainlog, '');
  writeFileSync(config, [
    'logs: { mainlog: exim_mainlog }',
    'state: state/watch.json',
    'start_at: beginning',
    'save_every: 0',
    'rescan_every: 0',
    'rules:',
    '  count:',
    '    key: auth_id',
    '    limits: [ { metric: messages, threshold: 20, window: 1d } ]',
    // The shipped playbooks, aimed at a host no name resolves: every response fails, harmlessly.
    `response: { contain_playbook: ${join(REPO, 'playbooks/watch-contain.yml')}, finish_playbook: ${join(REPO, 'playbooks/watch-finish.yml')}, hold_for: 4h, audit_dir: audit, host: no-such-host.invalid }`,
    '',
  ].join('\n'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const burst = (from: number, to: number): string[] => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(authArrival(i, 'alice@example.test'), delivery(i, `victim${i}@remote.test`));
  return out;
};

interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first JSON line on stdout matching `test`, reading from where the last wait stopped. */
  next(test: (o: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  lines: Record<string, unknown>[];
}

function startWatch(): Running {
  const child = spawn(process.execPath, [CLI, 'watch', '--config', config, '--json', '-v'], { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
  const lines: Record<string, unknown>[] = [];
  const waiters: { test: (o: Record<string, unknown>) => boolean; resolve: (o: Record<string, unknown>) => void }[] = [];
  let read = 0;
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(JSON.parse(l) as Record<string, unknown>);
    for (const w of [...waiters]) {
      while (read < lines.length) {
        const o = lines[read++]!;
        if (w.test(o)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(o);
          break;
        }
      }
    }
  });
  return {
    child,
    lines,
    next: (test) =>
      new Promise((resolve) => {
        while (read < lines.length) {
          const o = lines[read++]!;
          if (test(o)) return resolve(o);
        }
        waiters.push({ test, resolve });
      }),
  };
}

const readTo = (offset: number) => (o: Record<string, unknown>): boolean =>
  o.type === 'progress' && (o.files as { offset: number; saved: boolean }[]).some((f) => f.offset >= offset && f.saved);

describe('runbook watch, long-running and from cron', () => {
  it('SIGKILL and a restart neither repeat nor lose a trigger; SIGTERM saves and exits 0; --once then finds nothing new', async () => {
    const first = startWatch();
    await first.next(readTo(0));
    const upTo12 = first.next(readTo(Buffer.byteLength(text(burst(0, 12)))));
    appendFileSync(mainlog, text(burst(0, 12)));
    await upTo12;
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    // Written while no watcher runs.
    appendFileSync(mainlog, text(burst(12, 20)));

    const second = startWatch();
    const trigger = (await second.next((o) => o.type === 'trigger')).trigger as { trippedAt: string; observed: { value: number }; id: string };
    expect(trigger.trippedAt).toBe(iso(19));
    expect(trigger.observed.value).toBe(20);
    // The responder's answer (this branch's placeholder fails it; either way it is answered once).
    const outcome = (await second.next((o) => o.type === 'outcome')).outcome as { trigger: string };
    expect(outcome.trigger).toBe(trigger.id);
    const more = second.next(readTo(Buffer.byteLength(text(burst(0, 25)))));
    appendFileSync(mainlog, text(burst(20, 25)));
    await more;
    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(second.lines.filter((o) => o.type === 'trigger')).toHaveLength(1);

    const cron = await runCli(['watch', '--config', config, '--once', '--json']);
    expect(cron.stderr).toBe('');
    const out = cron.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.filter((o) => o.type === 'trigger')).toEqual([]);
    expect(out.at(-1)).toMatchObject({ type: 'summary', triggers: 0, keys: 1, dropped_events: 0 });
    expect(cron.code).toBe(0);
  });

  it('SIGHUP re-reads the config without losing its place; a config that no longer reads is refused and the watcher runs on', async () => {
    const w = startWatch();
    await w.next(readTo(0));
    writeFileSync(config, readFileSync(config, 'utf8').replace('threshold: 20', 'threshold: 5'));
    w.child.kill('SIGHUP');
    expect(await w.next((o) => o.type === 'reload')).toEqual({ type: 'reload', message: `reloaded ${config}` });
    appendFileSync(mainlog, text(burst(0, 6)));
    const trigger = (await w.next((o) => o.type === 'trigger')).trigger as { trippedAt: string; observed: { value: number; threshold: number } };
    expect(trigger.observed).toMatchObject({ value: 5, threshold: 5 });
    expect(trigger.trippedAt).toBe(iso(4));
    await w.next((o) => o.type === 'outcome');

    writeFileSync(config, 'rules: [\n');
    w.child.kill('SIGHUP');
    const refused = (await w.next((o) => o.type === 'reload')).message as string;
    expect(refused).toMatch(/^reload refused, still running with the configuration read before: /);
    // Still following, with the rules read before.
    const more = w.next(readTo(Buffer.byteLength(text(burst(0, 8)))));
    appendFileSync(mainlog, text(burst(6, 8)));
    await more;
    w.child.kill('SIGTERM');
    const [code] = (await once(w.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(w.lines.filter((o) => o.type === 'trigger')).toHaveLength(1);
  });

  it('--once answers what tripped since the last run and exits 1 when a response did not contain it', async () => {
    appendFileSync(mainlog, text(burst(0, 20)));
    const r = await runCli(['watch', '--config', config, '--once']);
    expect(r.stdout).toContain(`TRIPPED count auth_id=alice@example.test: messages 20 in 1440m (threshold 20); first ${iso(0)}, tripped ${iso(19)}`);
    expect(r.stdout).toMatch(/^ {2}failed/m);
    expect(r.code).toBe(1);
    const again = await runCli(['watch', '--config', config, '--once']);
    expect(again.stdout).toBe('');
    expect(again.code).toBe(0);
  });

  it('a corrupt state file stops it with exit 7 and says what to do; a bad config exits 2 at file:line:col', async () => {
    appendFileSync(mainlog, text(burst(0, 3)));
    expect((await runCli(['watch', '--config', config, '--once'])).code).toBe(0);
    const state = join(dir, 'state/watch.json');
    const good = readFileSync(state, 'utf8');
    writeFileSync(state, good.slice(0, 40));
    const r = await runCli(['watch', '--config', config, '--once']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/state file .*watch\.json is not valid JSON.*move it aside to start afresh/);
    expect(readFileSync(state, 'utf8')).toBe(good.slice(0, 40));

    writeFileSync(config, readFileSync(config, 'utf8').replace('window: 1d', 'window: daily'));
    const bad = await runCli(['watch', '--config', config, '--once']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${config}:9:58: error: rules.count.limits.0.window must be a duration such as 90s, 2m, 1h or 1h30m`);

    // A playbook the response names but nobody can read is a wrong config too, found at start.
    writeFileSync(config, readFileSync(config, 'utf8').replace('window: daily', 'window: 1d').replace('watch-contain.yml', 'watch-contian.yml'));
    const missing = await runCli(['watch', '--config', config, '--once']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read playbook \S*watch-contian\.yml: no such file/);
  });
});
