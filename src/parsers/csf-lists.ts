/**
 * csf.allow / csf.ignore / csf.deny: one IP or CIDR per line, `# comment` after it,
 * `Include /path` lines and advanced filter rules (`tcp|in|d=22|s=1.2.3.4`). Pure.
 */

export interface CsfListEntry {
  /** The IP or CIDR this line names (for an advanced rule: its s=/d= address). */
  address: string;
  /** The line was an advanced filter rule (port/protocol specific). */
  advanced: boolean;
  comment: string;
  line: number;
}

export interface CsfList {
  entries: CsfListEntry[];
  /** Paths named by `Include` lines, in order. */
  includes: string[];
}

const ADDRESS = /^[0-9A-Fa-f:.]+(?:\/\d{1,3})?$/;

export function parseCsfList(text: string): CsfList {
  const entries: CsfListEntry[] = [];
  const includes: string[] = [];
  const rows = text.split(/\r?\n/);
  rows.forEach((raw, index) => {
    const line = index + 1;
    const hash = raw.indexOf('#');
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    const comment = hash >= 0 ? raw.slice(hash + 1).trim() : '';
    if (body === '') return;
    const include = /^Include\s+(\S+)$/i.exec(body);
    if (include !== null) {
      includes.push(include[1] ?? '');
      return;
    }
    const token = body.split(/\s+/)[0] ?? '';
    if (token.includes('|')) {
      for (const part of token.split('|')) {
        const m = /^[sd]=(.+)$/.exec(part);
        if (m !== null && ADDRESS.test(m[1] ?? '') && /[.:]/.test(m[1] ?? '')) {
          entries.push({ address: m[1] ?? '', advanced: true, comment, line });
        }
      }
      return;
    }
    if (ADDRESS.test(token) && /[.:]/.test(token)) entries.push({ address: token, advanced: false, comment, line });
  });
  return { entries, includes };
}
