/**
 * Output of `find DIR ... -printf '%T@\t%m\t%s\t%p\0'`: NUL-terminated records, so file names
 * with tabs or newlines (hostile uploads) cannot split or forge a record.
 */
export interface FoundFile {
  path: string;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Octal permission bits as printed (`644`). */
  mode: string;
  size: number;
}

export const FIND_PRINTF_FORMAT = '%T@\\t%m\\t%s\\t%p\\0';

export function parseFindPrintf(text: string): FoundFile[] {
  const out: FoundFile[] = [];
  for (const rec of text.split('\0')) {
    if (rec === '') continue;
    const a = rec.indexOf('\t');
    const b = a < 0 ? -1 : rec.indexOf('\t', a + 1);
    const c = b < 0 ? -1 : rec.indexOf('\t', b + 1);
    if (c < 0) continue;
    const mtime = Number(rec.slice(0, a));
    const mode = rec.slice(a + 1, b);
    const size = Number(rec.slice(b + 1, c));
    if (!Number.isFinite(mtime) || !/^[0-7]{1,4}$/.test(mode) || !Number.isFinite(size)) continue;
    out.push({ path: rec.slice(c + 1), mtime, mode, size });
  }
  return out;
}

/**
 * Names that look generated (`N138UVkOgLJ.php`, `pdyihizr.php`, `x7k.php`): long consonant
 * runs, or upper case and digits mixed into a short random-looking stem. A heuristic for
 * ranking what an operator should look at, never a proof.
 */
export function looksRandomName(name: string): boolean {
  const stem = name.replace(/\.[A-Za-z0-9]{1,5}$/, '');
  if (stem.length < 5 || /[^A-Za-z0-9]/.test(stem)) return false;
  if (/[bcdfghjklmnpqrstvwxz]{5,}/i.test(stem)) return true;
  const upper = (stem.match(/[A-Z]/g) ?? []).length;
  const digit = (stem.match(/\d/g) ?? []).length;
  const lower = (stem.match(/[a-z]/g) ?? []).length;
  if (upper >= 2 && lower >= 2 && digit >= 1) return true;
  const vowels = (stem.match(/[aeiouy]/gi) ?? []).length;
  return stem.length >= 7 && vowels / stem.length < 0.2;
}
