/**
 * What CSF printed. CSF exits 0 for every "failed" outcome, so its stdout is the only truth.
 * Pure: text in, typed outcome out.
 */

export type CsfDenyOutcome =
  /** Added to csf.deny (and to iptables unless `testing`). */
  | { kind: 'denied' }
  | { kind: 'already'; times: number }
  | { kind: 'in-allow'; file: string }
  | { kind: 'in-ignore'; file: string }
  | { kind: 'own-address' }
  | { kind: 'invalid' }
  | { kind: 'disabled' }
  | { kind: 'unknown' };

export interface CsfDenyReport {
  outcome: CsfDenyOutcome;
  /** TESTING mode: the IP went into csf.deny only, not into iptables. */
  testing: boolean;
  /** Entries DENY_IP_LIMIT rotated out of csf.deny to make room (their first token). */
  rotated: string[];
  /** The limit CSF reported when it rotated entries out. */
  denyLimit?: number;
  /** The lines that decided the outcome, for error messages. */
  text: string;
}

export type CsfRemoveOutcome =
  | { kind: 'removed'; rules: number }
  | { kind: 'not-found' }
  | { kind: 'do-not-delete' }
  | { kind: 'disabled' }
  | { kind: 'unknown' };

export interface CsfRemoveReport {
  outcome: CsfRemoveOutcome;
  text: string;
}

const DISABLED = /csf and lfd have been disabled/;
const TESTING = /only while in TESTING mode|TESTING mode is enabled/;
const DENY_ADDED = /^Adding \S+ to csf\.deny/;
const ALREADY = /^deny failed: \S+ is in already in the deny file \S+ (\d+) times?/;
const IN_ALLOW = /^deny failed: \S+ is in the allow file (\S+)/;
const IN_IGNORE = /^deny failed: \S+ is in the ignore file (\S+)/;
const OWN = /^deny failed: \S+ is one of this servers addresses/;
const INVALID = /^deny failed: \S+ is not a valid PUBLIC IP/;
const LIMIT = /^csf: DENY_IP_LIMIT \((\d+)\), the following IP'?s were removed from/;

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trimEnd());
}

/** The first token of a csf.deny line as CSF listed it when rotating ("1.2.3.4 # spam - date"). */
function rotatedEntry(line: string): string | undefined {
  const token = line.trim().split(/\s+/)[0];
  if (token === undefined || token === '' || token.startsWith('#')) return undefined;
  // An IP, a CIDR or an advanced filter rule: never a sentence.
  return /^[0-9A-Fa-f:.\/|=a-z]+$/.test(token) && /[.:]/.test(token) ? token : undefined;
}

/** Reads the output of `csf -d IP [comment]`. */
export function parseCsfDenyOutput(stdout: string): CsfDenyReport {
  const all = lines(stdout);
  let outcome: CsfDenyOutcome = { kind: 'unknown' };
  const decisive: string[] = [];
  const rotated: string[] = [];
  let denyLimit: number | undefined;
  let inRotation = false;
  for (const line of all) {
    const trimmed = line.trim();
    let m: RegExpExecArray | null;
    if ((m = LIMIT.exec(trimmed)) !== null) {
      denyLimit = Number(m[1]);
      inRotation = true;
      decisive.push(trimmed);
      continue;
    }
    if (DISABLED.test(trimmed)) {
      outcome = { kind: 'disabled' };
      decisive.push(trimmed);
      inRotation = false;
      continue;
    }
    if (DENY_ADDED.test(trimmed)) {
      if (outcome.kind === 'unknown') outcome = { kind: 'denied' };
      decisive.push(trimmed);
      inRotation = false;
      continue;
    }
    if ((m = ALREADY.exec(trimmed)) !== null) outcome = { kind: 'already', times: Number(m[1]) };
    else if ((m = IN_ALLOW.exec(trimmed)) !== null) outcome = { kind: 'in-allow', file: m[1] ?? '' };
    else if ((m = IN_IGNORE.exec(trimmed)) !== null) outcome = { kind: 'in-ignore', file: m[1] ?? '' };
    else if (OWN.test(trimmed)) outcome = { kind: 'own-address' };
    else if (INVALID.test(trimmed)) outcome = { kind: 'invalid' };
    else if (inRotation && trimmed !== '') {
      const entry = rotatedEntry(trimmed);
      if (entry !== undefined) {
        rotated.push(entry);
        continue;
      }
      inRotation = false;
      continue;
    } else continue;
    decisive.push(trimmed);
    inRotation = false;
  }
  const testing = all.some((l) => TESTING.test(l));
  return {
    outcome,
    testing,
    rotated,
    ...(denyLimit !== undefined ? { denyLimit } : {}),
    text: decisive.length > 0 ? decisive.join('\n') : stdout.trim().slice(0, 500),
  };
}

/** Reads the output of `csf -dr IP`. */
export function parseCsfRemoveOutput(stdout: string): CsfRemoveReport {
  const all = lines(stdout).map((l) => l.trim());
  if (all.some((l) => DISABLED.test(l))) return { outcome: { kind: 'disabled' }, text: stdout.trim() };
  if (all.some((l) => /^csf: \S+ set as "do not delete"/.test(l))) {
    return { outcome: { kind: 'do-not-delete' }, text: stdout.trim() };
  }
  const rules = all.filter((l) => l === 'Removing rule...').length;
  if (rules > 0) return { outcome: { kind: 'removed', rules }, text: stdout.trim() };
  if (all.some((l) => /^csf: \S+ not found in csf\.deny/.test(l))) {
    return { outcome: { kind: 'not-found' }, text: stdout.trim() };
  }
  return { outcome: { kind: 'unknown' }, text: stdout.trim().slice(0, 500) };
}

export type CsfTempDenyOutcome =
  | { kind: 'denied'; seconds: number }
  | { kind: 'already-permanent' }
  | { kind: 'already-temporary' }
  | { kind: 'own-address' }
  | { kind: 'invalid' }
  | { kind: 'disabled' }
  | { kind: 'unknown' };

/** Reads the output of `csf -td IP TTL …` (`csf: IP blocked on port * for 3600 seconds inbound`). */
export function parseCsfTempDenyOutput(stdout: string): { outcome: CsfTempDenyOutcome; text: string } {
  for (const line of lines(stdout)) {
    const t = line.trim();
    let m: RegExpExecArray | null;
    if (DISABLED.test(t)) return { outcome: { kind: 'disabled' }, text: t };
    if ((m = /^csf: \S+ blocked on port \S+ for (\d+) seconds/.exec(t)) !== null) return { outcome: { kind: 'denied', seconds: Number(m[1]) }, text: t };
    if (/^csf: \S+ is already permanently blocked/.test(t)) return { outcome: { kind: 'already-permanent' }, text: t };
    if (/^csf: \S+ is already temporarily blocked/.test(t)) return { outcome: { kind: 'already-temporary' }, text: t };
    if (/is one of this servers addresses/.test(t)) return { outcome: { kind: 'own-address' }, text: t };
    if (/is not a valid PUBLIC IP/.test(t)) return { outcome: { kind: 'invalid' }, text: t };
  }
  return { outcome: { kind: 'unknown' }, text: stdout.trim().slice(0, 500) };
}

/** Reads the output of `csf -trd IP` (`csf: IP temporary block removed` / `… not found in temporary bans`). */
export function parseCsfTempRemoveOutput(stdout: string): { outcome: 'removed' | 'not-found' | 'disabled' | 'unknown'; text: string } {
  for (const line of lines(stdout)) {
    const t = line.trim();
    if (DISABLED.test(t)) return { outcome: 'disabled', text: t };
    if (/^csf: \S+ temporary block removed/.test(t)) return { outcome: 'removed', text: t };
    if (/^csf: \S+ not found in temporary bans/.test(t)) return { outcome: 'not-found', text: t };
  }
  return { outcome: 'unknown', text: stdout.trim().slice(0, 500) };
}

export interface CsfTempEntry {
  /** When it was added, seconds since the epoch. */
  epoch: number;
  ip: string;
  port: string;
  dir: string;
  ttl: number;
  comment: string;
}

/** `/var/lib/csf/csf.tempban` (and .tempallow): `epoch|ip|port|dir|ttl|comment` lines. Pure. */
export function parseCsfTempList(text: string): CsfTempEntry[] {
  const out: CsfTempEntry[] = [];
  for (const line of lines(text)) {
    const [epoch, ip, port, dir, ttl, ...comment] = line.split('|');
    if (ip === undefined || ttl === undefined || !/^\d+$/.test(epoch ?? '') || !/^\d+$/.test(ttl)) continue;
    out.push({ epoch: Number(epoch), ip, port: port ?? '*', dir: dir ?? 'in', ttl: Number(ttl), comment: comment.join('|') });
  }
  return out;
}
