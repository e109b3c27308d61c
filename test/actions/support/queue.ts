import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const realEximAvailable = existsSync('/usr/sbin/exim') || existsSync('/usr/sbin/exim4');

export interface QueuedMessage {
  from: string;
  to?: string;
  subject?: string;
  headers?: string[];
  /** SMTP AUTH id: the message is submitted over `exim -bs` with AUTH PLAIN. */
  authId?: string;
}

function dotStuff(text: string): string {
  return text.replace(/^\./gm, '..');
}

/** Queue messages in a real Exim (queue_only) with one batched-SMTP process. */
export function queueMessages(exim: string, messages: readonly QueuedMessage[]): void {
  const plain = messages.filter((m) => m.authId === undefined);
  if (plain.length > 0) {
    const chunks: string[] = [];
    for (const m of plain) {
      const headers = [`Subject: ${m.subject ?? 'test'}`, ...(m.headers ?? [])].join('\n');
      chunks.push(`MAIL FROM:<${m.from}>\nRCPT TO:<${m.to ?? 'victim@remote.test'}>\nDATA\n${dotStuff(headers)}\n\nbody\n.\n`);
    }
    chunks.push('QUIT\n');
    const r = spawnSync(exim, ['-bS'], { input: chunks.join(''), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`exim -bS failed: ${r.stderr}${r.stdout}`);
  }
  for (const m of messages.filter((x) => x.authId !== undefined)) {
    const token = Buffer.from(`\u0000${m.authId}\u0000pw`).toString('base64');
    const headers = [`Subject: ${m.subject ?? 'test'}`, ...(m.headers ?? [])].join('\r\n');
    const session = `EHLO laptop\r\nAUTH PLAIN ${token}\r\nMAIL FROM:<${m.from}>\r\nRCPT TO:<${m.to ?? 'victim@remote.test'}>\r\nDATA\r\n${headers}\r\n\r\nbody\r\n.\r\nQUIT\r\n`;
    const r = spawnSync(exim, ['-bs', '-oMa', '45.33.12.7.52100'], { input: session, encoding: 'utf8' });
    if (!/250 OK id=/.test(r.stdout)) throw new Error(`exim -bs failed: ${r.stdout}${r.stderr}`);
  }
}

/** IDs and senders in the queue, straight from `exim -bpr`. */
export function queueSenders(exim: string): Array<{ id: string; sender: string }> {
  const r = spawnSync(exim, ['-bpr'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const out: Array<{ id: string; sender: string }> = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*\d+[mhd]\s+\S+\s+(\S+) <(.*?)>/.exec(line);
    if (m !== null) out.push({ id: m[1] ?? '', sender: m[2] ?? '' });
  }
  return out;
}
