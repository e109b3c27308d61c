// A real DNS server for tests: Debian's dnsmasq on 127.0.0.1 at a random high port, answering
// only the zones given (names from a hosts file, TXT records, NXDOMAIN for the rest of each
// zone). Tests gate on requireDnsmasq(); with CI set, a missing dnsmasq fails the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DNSMASQ_BINARY = '/usr/sbin/dnsmasq';

export function requireDnsmasq(): boolean {
  const ok = existsSync(DNSMASQ_BINARY) && spawnSync(DNSMASQ_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok && process.env.CI) throw new Error(`dnsmasq is required under CI (apt-get install dnsmasq-base): ${DNSMASQ_BINARY} missing or not runnable`);
  return ok;
}

export interface TestZones {
  /** Zones answered authoritatively: names not listed below get NXDOMAIN. */
  zones: string[];
  /** name → A answers (several give several records). */
  a: Record<string, string[]>;
  /** name → TXT strings. */
  txt?: Record<string, string[]>;
}

export interface DnsServer {
  /** `127.0.0.1:PORT` for --dns-server. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

function startOnce(dir: string, port: number, zones: TestZones): Promise<ChildProcess | 'port-taken'> {
  const args = [
    '--keep-in-foreground',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--pid-file=',
    '--log-facility=-',
    `--addn-hosts=${join(dir, 'hosts')}`,
    ...zones.zones.map((z) => `--local=/${z}/`),
    `--conf-file=${join(dir, 'txt.conf')}`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(DNSMASQ_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString('utf8');
      // Logged after the listening sockets are bound: from here on it answers.
      if (/started, version/.test(stderr)) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stderr?.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (/in use/i.test(stderr)) resolve('port-taken');
      else reject(new Error(`dnsmasq exited (${code}): ${stderr.trim()}`));
    });
  });
}

export async function startDnsServer(zones: TestZones): Promise<DnsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-dns-'));
  chmodSync(dir, 0o755);
  const hosts = Object.entries(zones.a).flatMap(([name, addresses]) => addresses.map((a) => `${a} ${name}\n`));
  writeFileSync(join(dir, 'hosts'), hosts.join(''), { mode: 0o644 });
  // One TXT record per string; in a config file quotes keep the commas inside the text.
  const txt = Object.entries(zones.txt ?? {}).flatMap(([name, texts]) => texts.map((t) => `txt-record=${name},"${t}"\n`));
  writeFileSync(join(dir, 'txt.conf'), txt.join(''), { mode: 0o644 });
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const child = await startOnce(dir, port, zones);
    if (child === 'port-taken') continue;
    return {
      address: `127.0.0.1:${port}`,
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          const done = (): void => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          };
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', done);
          child.kill('SIGTERM');
        }),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error('no free port for dnsmasq after 20 tries');
}
