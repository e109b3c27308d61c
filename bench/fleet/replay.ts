/**
 * The read-only commands a `runbook apply --dry-run` ran on each host, recovered from its
 * audit log, so Ansible and plain OpenSSH can be made to run exactly the same work.
 *
 * The audit log records every command an action runs through its context (`command.result`,
 * with the argv as sent). The remote scanners of exim.detect (src/remote/scan.ts) talk to the
 * transport directly and are not in it: three `perl -` calls with the script on stdin. Their
 * arguments are derived here the way scan.ts derives them (the main log's size and last
 * timestamp, read on the host, then the `since` window) and put back where detect runs them:
 * right after it reads the queue.
 */
import type { AuditRecord } from '../../src/audit/records.js';
import { resolveSince } from '../../src/parsers/log-time.js';
import { MAINLOG_FILTER_PERL, MAINLOG_INFO_PERL } from '../../src/remote/mainlog-filter.pl.js';
import { SPOOL_FILTER_PERL } from '../../src/remote/spool-filter.pl.js';
import { quoteArgvForPosixShell } from '../../src/transport/quote.js';

export interface ReplayCommand {
  argv: string[];
  /** Bytes the command reads on stdin (the perl scanners' scripts); none when absent. */
  stdin?: string;
}

/** What MAINLOG_INFO_PERL prints for the host's main log: `SIZE\nLAST_TIMESTAMP\n`. */
export interface MainlogInfo {
  size: number;
  last: string;
}

export function parseMainlogInfo(stdout: string): MainlogInfo {
  const [size, last = ''] = stdout.split('\n');
  const n = Number(size);
  if (!Number.isSafeInteger(n)) throw new Error(`unexpected main log info: ${JSON.stringify(stdout.slice(0, 80))}`);
  return { size: n, last };
}

/** The three perl runs of scanMainlogRemote + scanSpoolRemote, with their default limits. */
export function remoteScanCommands(mainlog: string, spoolDir: string, info: MainlogInfo, since = '24h'): ReplayCommand[] {
  let fromArg = '-';
  if (info.last !== '') {
    const r = resolveSince(since, info.last);
    if (!r.ok) throw new Error(r.error);
    fromArg = r.from;
  }
  return [
    { argv: ['perl', '-', mainlog], stdin: MAINLOG_INFO_PERL },
    { argv: ['perl', '-', mainlog, String(info.size), fromArg], stdin: MAINLOG_FILTER_PERL },
    { argv: ['perl', '-', spoolDir, String(200_000), String(64 * 1024)], stdin: SPOOL_FILTER_PERL },
  ];
}

export { MAINLOG_INFO_PERL };

/**
 * Per host, in order: every recorded command, with `scans(host)` inserted after detect's first
 * queue listing (`exim -bpr`).
 */
export function replayFromAudit(records: AuditRecord[], scans: (host: string) => ReplayCommand[]): Map<string, ReplayCommand[]> {
  const out = new Map<string, ReplayCommand[]>();
  const inserted = new Set<string>();
  for (const r of records) {
    if (r.type !== 'command.result') continue;
    const list = out.get(r.host) ?? [];
    out.set(r.host, list);
    list.push({ argv: [...r.argv] });
    if (!inserted.has(r.host) && r.step === 'detect' && r.argv[1] === '-bpr') {
      inserted.add(r.host);
      list.push(...scans(r.host));
    }
  }
  for (const host of out.keys()) {
    if (!inserted.has(host)) throw new Error(`${host}: the dry-run never listed the queue in detect; the audit log is not the expected one`);
  }
  return out;
}

/**
 * One POSIX sh script running the commands in sequence, each quoted the way runbook's SSH
 * transport quotes it; stdin from a quoted here-document (taken verbatim) or /dev/null. The
 * first failure stops the script with that command's status.
 */
export function shellScript(commands: ReplayCommand[]): string {
  const lines = ['set -e'];
  commands.forEach((c, i) => {
    const cmd = quoteArgvForPosixShell(c.argv);
    if (c.stdin === undefined) {
      lines.push(`${cmd} </dev/null`);
      return;
    }
    const tag = `RUNBOOK_STDIN_${i}`;
    if (c.stdin.split('\n').includes(tag)) throw new Error(`stdin of command ${i} contains its here-document end line`);
    lines.push(`${cmd} <<'${tag}'`, c.stdin.endsWith('\n') ? c.stdin.slice(0, -1) : c.stdin, tag);
  });
  return `${lines.join('\n')}\n`;
}

/** A YAML double-quoted scalar Ansible never templates (JSON strings are valid YAML ones). */
function unsafe(s: string): string {
  return `!unsafe ${JSON.stringify(s)}`;
}

/**
 * Ansible YAML inventory: each host's commands as a host variable `rb_cmds` (marked !unsafe:
 * paths and scripts are data, never Jinja), and connection settings shared by all.
 */
export function ansibleInventory(
  hosts: Array<{ name: string; port: number; commands: ReplayCommand[] }>,
  conn: { clientKey: string; knownHostsFile: string },
): string {
  const lines = [
    'all:',
    '  vars:',
    '    ansible_user: root',
    '    ansible_host: 127.0.0.1',
    `    ansible_ssh_private_key_file: ${JSON.stringify(conn.clientKey)}`,
    `    ansible_ssh_common_args: ${JSON.stringify(`-o UserKnownHostsFile=${conn.knownHostsFile} -o StrictHostKeyChecking=yes`)}`,
    '    ansible_python_interpreter: /usr/bin/python3',
    '  hosts:',
  ];
  for (const h of hosts) {
    lines.push(`    ${h.name}:`, `      ansible_port: ${h.port}`, '      rb_cmds:');
    for (const c of h.commands) {
      lines.push(`        - argv: [${c.argv.map(unsafe).join(', ')}]`);
      if (c.stdin !== undefined) lines.push(`          stdin: ${unsafe(c.stdin)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * One `ansible.builtin.command` task per command position (the dry-run runs the same sequence
 * on every host; only paths differ), argv form, stdin passed byte for byte.
 */
export function ansiblePlaybook(taskCount: number): string {
  const lines = ['- hosts: all', '  gather_facts: false', '  tasks:'];
  for (let i = 0; i < taskCount; i++) {
    lines.push(
      `    - name: command ${i + 1}`,
      '      ansible.builtin.command:',
      `        argv: "{{ rb_cmds[${i}].argv }}"`,
      `        stdin: "{{ rb_cmds[${i}].stdin | default(omit) }}"`,
      '        stdin_add_newline: false',
      `      when: rb_cmds | length > ${i}`,
      '      changed_when: false',
    );
  }
  return `${lines.join('\n')}\n`;
}
