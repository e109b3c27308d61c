/**
 * The senders and scripts earlier runs found (the `detect:` notes in audit logs), so hardening
 * can name the accounts that sent spam before. Pure: log text in, sources out.
 */

export interface PastSpamSource {
  host: string;
  kind: 'mailbox' | 'script';
  /** The mailbox address or the script path, as the log holds it (hostile text: escape to show). */
  source: string;
  /** The cPanel account, when the source says it (a script under /home*\/USER/). */
  account?: string;
  /** How many runs (audit logs) found it. */
  runs: number;
  /** Time of the latest record that found it. */
  last: string;
}

interface DetectNote {
  type?: unknown;
  host?: unknown;
  ts?: unknown;
  message?: unknown;
  data?: { kind?: unknown; sender?: unknown; scripts?: unknown };
}

const ACCOUNT_IN_PATH = /\/home\d*\/([a-z][a-z0-9_-]{0,31})\//;

/** One entry per host and source, counted once per log; torn or foreign lines are skipped. */
export function pastSpamSources(logs: readonly string[]): PastSpamSource[] {
  const found = new Map<string, PastSpamSource>();
  for (const text of logs) {
    const inThisLog = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line.includes('"detect: ')) continue;
      let record: DetectNote;
      try {
        record = JSON.parse(line) as DetectNote;
      } catch {
        continue;
      }
      if (record.type !== 'note' || typeof record.host !== 'string' || typeof record.message !== 'string' || !record.message.startsWith('detect: ')) continue;
      const data = record.data ?? {};
      const ts = typeof record.ts === 'string' ? record.ts : '';
      const sources: Array<Pick<PastSpamSource, 'kind' | 'source' | 'account'>> = [];
      if (data.kind === 'mailbox' && typeof data.sender === 'string') sources.push({ kind: 'mailbox', source: data.sender });
      if (Array.isArray(data.scripts)) {
        for (const path of data.scripts) {
          if (typeof path !== 'string') continue;
          const account = ACCOUNT_IN_PATH.exec(path)?.[1];
          sources.push({ kind: 'script', source: path, ...(account !== undefined ? { account } : {}) });
        }
      }
      for (const s of sources) {
        const key = `${record.host}\u0000${s.kind}\u0000${s.source}`;
        const entry = found.get(key) ?? { host: record.host, ...s, runs: 0, last: '' };
        if (!inThisLog.has(key)) entry.runs += 1;
        inThisLog.add(key);
        if (ts > entry.last) entry.last = ts;
        found.set(key, entry);
      }
    }
  }
  return [...found.values()].sort((a, b) => b.runs - a.runs || b.last.localeCompare(a.last));
}
