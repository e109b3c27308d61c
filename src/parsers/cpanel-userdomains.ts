/** `/etc/userdomains`: `domain: user` lines (`*: nobody` is the catch-all). Pure. */
export function parseUserdomains(text: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*([^:\s]+):\s*(\S+)\s*$/.exec(raw);
    if (m === null) continue;
    const domain = (m[1] ?? '').toLowerCase();
    if (domain === '*') continue;
    owners.set(domain, m[2] ?? '');
  }
  return owners;
}
