/**
 * The read-only commands a `runbook apply --dry-run` ran on each host, recovered from its
 * audit log, so Ansible and plain OpenSSH can be made to run exactly the same work.
 *
 * The audit log records every command an action runs (`command.result`, with the argv as sent
 * and the sha256 of its stdin). Stdin here is one of runbook's perl scanners or its native counter, found by that
 * digest. Reads that were not run again while planning (`reusedFrom`) are left out.
 */
/// <reference types="vite/client" />
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../../src/audit/records.js';
import { nativeCounter } from '../../src/remote/native-count.js';
import { quoteArgvForPosixShell } from '../../src/transport/quote.js';

export interface ReplayCommand {
  argv: string[];
  /** Bytes the command reads on stdin (the perl scanners' scripts); none when absent. */
  stdin?: string;
  /**
   * The exit status the dry-run got, when not 0 (grep finding nothing, a log or a tool that does
   * not exist): the replay accepts a failure there rather than stopping. Any non-zero status,
   * since a missing program is 127 for a shell and 2 for Ansible's command module.
   */
  exitCode?: number;
}

// Every script runbook ships to hosts (each `src/**/*.pl.ts` exports its text as strings), so
// the replay follows a change of the scripts without being edited.
const SHIPPED = import.meta.glob<Record<string, unknown>>('../../src/**/*.pl.ts', { eager: true });
const SCRIPTS = new Map(
  Object.values(SHIPPED)
    .flatMap((module) => Object.values(module).filter((v): v is string => typeof v === 'string'))
    .map((script) => [createHash('sha256').update(script).digest('hex'), script]),
);

// The native counter is uploaded as gzipped bytes, which neither a here-document nor Ansible's
// `stdin` carries: the replay sends it base64 and decodes it on the host into the same command.
const NATIVE = nativeCounter();
const BINARY = new Map(NATIVE === null ? [] : [[createHash('sha256').update(NATIVE.upload).digest('hex'), NATIVE.upload]]);

function binaryReplay(argv: readonly string[], bytes: Buffer): { argv: string[]; stdin: string } {
  const text = bytes.toString('base64').replace(/.{1,76}/g, '$&\n');
  return { argv: ['sh', '-c', 'base64 -d | "$@"', 'sh', ...argv], stdin: text };
}

/** Per host, in order: every command the dry-run really ran, with its stdin. */
export function replayFromAudit(records: AuditRecord[]): Map<string, ReplayCommand[]> {
  const out = new Map<string, ReplayCommand[]>();
  for (const r of records) {
    if (r.type !== 'command.result' || r.reusedFrom !== undefined) continue;
    const list = out.get(r.host) ?? [];
    out.set(r.host, list);
    // No status at all (null): the program could not be started, a failure too.
    const status = r.exitCode !== 0 ? { exitCode: r.exitCode ?? -1 } : {};
    if (r.stdinSha256 === undefined) {
      list.push({ argv: [...r.argv], ...status });
      continue;
    }
    const binary = BINARY.get(r.stdinSha256);
    if (binary !== undefined) {
      list.push({ ...binaryReplay(r.argv, binary), ...status });
      continue;
    }
    const stdin = SCRIPTS.get(r.stdinSha256);
    if (stdin === undefined) throw new Error(`${r.host}: ${r.argv.join(' ')} read a stdin this replay does not know (sha256 ${r.stdinSha256})`);
    list.push({ argv: [...r.argv], stdin, ...status });
  }
  for (const [host, list] of out) {
    if (!list.some((c) => c.stdin !== undefined)) throw new Error(`${host}: no scanner in the dry-run; the audit log is not the expected one`);
  }
  return out;
}

/**
 * One POSIX sh script running the commands in sequence, each quoted the way runbook's SSH
 * transport quotes it; stdin from a quoted here-document (taken verbatim) or /dev/null. The
 * first failure (a status other than the dry-run's) stops the script.
 */
export function shellScript(commands: ReplayCommand[]): string {
  const lines = ['set -e'];
  commands.forEach((c, i) => {
    const cmd = quoteArgvForPosixShell(c.argv);
    const expected = c.exitCode !== undefined ? ' || true' : '';
    if (c.stdin === undefined) {
      lines.push(`${cmd} </dev/null${expected}`);
      return;
    }
    const tag = `RUNBOOK_STDIN_${i}`;
    if (c.stdin.split('\n').includes(tag)) throw new Error(`stdin of command ${i} contains its here-document end line`);
    lines.push(`${cmd} <<'${tag}'${expected}`, c.stdin.endsWith('\n') ? c.stdin.slice(0, -1) : c.stdin, tag);
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
 * `sshLog`: OpenSSH's own log for that host (`-E`, verbose), whose `Transferred:` line, written
 * when the ControlPersist master closes, gives the bytes on the wire as it does for the floor.
 */
export function ansibleInventory(
  hosts: Array<{ name: string; port: number; commands: ReplayCommand[]; sshLog?: string }>,
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
    lines.push(`    ${h.name}:`, `      ansible_port: ${h.port}`);
    if (h.sshLog !== undefined) lines.push(`      ansible_ssh_extra_args: ${JSON.stringify(`-o LogLevel=VERBOSE -E ${h.sshLog}`)}`);
    lines.push('      rb_cmds:');
    for (const c of h.commands) {
      lines.push(`        - argv: [${c.argv.map(unsafe).join(', ')}]`);
      if (c.stdin !== undefined) lines.push(`          stdin: ${unsafe(c.stdin)}`);
      if (c.exitCode !== undefined) lines.push(`          rc: ${c.exitCode}`);
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
      '      register: result',
      `      failed_when: result.rc != 0 and (rb_cmds[${i}].rc | default(0)) == 0`,
      '      changed_when: false',
    );
  }
  return `${lines.join('\n')}\n`;
}
