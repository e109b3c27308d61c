/**
 * `/etc/csf/csf.conf`: `KEY = "value"` lines (Perl-style; csf reads the value between the
 * quotes), `#` comments. Pure.
 */

const LINE = /^([A-Z][A-Z0-9_]*)\s*=\s*"([^"]*)"\s*$/;

/** Every KEY = "value" assignment; a later line wins, as in csf's own reader. */
export function parseCsfConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw.trim());
    if (m) values.set(m[1] ?? '', m[2] ?? '');
  }
  return values;
}

/** Keys and values the csf.conf setting action writes: nothing a sed expression or csf's reader could misread. */
export const CSF_KEY = /^[A-Z][A-Z0-9_]{0,63}$/;
export const CSF_SAFE_VALUE = /^[A-Za-z0-9_.,:|@+ -]{0,200}$/;
