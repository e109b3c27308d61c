/**
 * A deliberately simple line-by-line main-log aggregator built on classifyMainlogLine. The
 * byte scanner must agree with it exactly on any input.
 */
import { classifyMainlogLine } from '../../src/parsers/exim-mainlog.js';
import { noCounters, type Counters } from '../../src/parsers/count-registry.js';
import { emptyPartial, type Outcomes, type ScanBucket, type ScanPartial } from '../../src/parsers/mainlog-scan.js';


function bump(map: Map<string, ScanBucket>, key: string): ScanBucket & { nested: Map<string, number> } {
  let b = map.get(key) as (ScanBucket & { nested: Map<string, number> }) | undefined;
  if (b === undefined) {
    b = { count: 0, nested: new Map() };
    map.set(key, b);
  }
  b.count++;
  return b;
}

function nest(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function outcome(map: Map<string, Counters>, key: string, field: keyof Outcomes, n: number): void {
  const o = map.get(key) ?? noCounters();
  o[field] += n;
  map.set(key, o);
}

export function referenceScan(text: string, from: string | null = null): ScanPartial {
  const part = emptyPartial();
  /** Ranked arrivals by message id, and the (message, recipient) pairs counted as deferred. */
  const messages = new Map<string, { sender: string; auth: string | null; cwd: string | null }>();
  const deferred = new Set<string>();
  const lines = text === '' ? [] : text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  let pending: { path: string; time: string } | null = null;
  for (const line of lines) {
    const c = classifyMainlogLine(line);
    if (from !== null && (c.kind === 'invalid' || c.time < from)) continue;
    if (c.kind === 'invalid') continue;
    part.firstTime ??= c.time;
    part.lastTime = c.time;
    if (c.kind === 'cwd') {
      if (c.admin) {
        part.adminInvocations++;
        pending = null;
      } else {
        part.cwdSubmissions++;
        // A directory's first line: its time's digits (count-registry.ts, cwd_first).
        if (bump(part.cwd, c.cwd).count === 1) part.cwdOutcomes.set(c.cwd, { ...(part.cwdOutcomes.get(c.cwd) ?? noCounters()), first_seen: Number(c.time.slice(0, 19).replace(/[^0-9]/g, '')) });
        pending = { path: c.cwd, time: c.time };
      }
      continue;
    }
    if (c.kind === 'deferral' || c.kind === 'failure') {
      if (c.kind === 'deferral') part.deferralLines++;
      else part.failureLines++;
      const m = messages.get(c.id);
      if (m === undefined) {
        part.unjoined++;
        continue;
      }
      if (c.kind === 'deferral') {
        // ASCII-only lower case, as the scanner's hash and perl's tr/A-Z/a-z/.
        const pair = `${c.id} ${c.address.replace(/[A-Z]/g, (x) => x.toLowerCase())}`;
        if (deferred.has(pair)) continue;
        deferred.add(pair);
      }
      const field = c.kind === 'deferral' ? 'deferrals' : 'failures';
      outcome(part.senderOutcomes, m.sender, field, 1);
      if (m.auth !== null) outcome(part.authOutcomes, m.auth, field, 1);
      if (m.cwd !== null) outcome(part.cwdOutcomes, m.cwd, field, 1);
      continue;
    }
    if (c.kind !== 'arrival') continue;
    part.arrivals++;
    if (c.bounce) part.bounces++;
    if (c.host !== null && c.auth === null) {
      part.incomingArrivals++;
      continue;
    }
    const ip = c.host?.ip ?? null;
    let cwd: string | null = null;
    if (!c.bounce) {
      const b = bump(part.senders, c.sender);
      if (ip !== null) nest(b.nested, ip);
    }
    if (c.auth !== null) {
      part.authArrivals++;
      if (c.auth.id === null) part.authWithoutIdArrivals++;
      else {
        const b = bump(part.auth, c.auth.id);
        if (ip !== null) nest(b.nested, ip);
        b.extra ??= new Map();
        nest(b.extra, c.auth.authenticator);
      }
    }
    if (c.host === null) {
      part.localArrivals++;
      if (c.user !== null) {
        const b = bump(part.localUsers, c.user);
        if (!c.bounce) nest(b.nested, c.sender);
      }
      if (pending !== null && !c.bounce && pending.time === c.time) {
        const b = part.cwd.get(pending.path);
        if (b !== undefined) nest(b.nested!, c.sender);
        cwd = pending.path;
        pending = null;
      }
    }
    if (c.subject !== null && !c.bounce) nest(bump(part.subjects, c.subject).nested, c.sender);
    if (!c.bounce) {
      const auth = c.auth?.id ?? null;
      messages.set(c.id, { sender: c.sender, auth, cwd });
      if (c.recipients.length > 0) {
        outcome(part.senderOutcomes, c.sender, 'recipients', c.recipients.length);
        if (auth !== null) outcome(part.authOutcomes, auth, 'recipients', c.recipients.length);
        if (cwd !== null) outcome(part.cwdOutcomes, cwd, 'recipients', c.recipients.length);
      }
    }
  }
  return part;
}
