// Scores one `runbook investigate --json` verdict against a scenario's truth.json: which true
// sources it names, and every target it would act on (block, purge, disable) that the truth
// does not allow. Pure; run.mjs does the I/O.
import { BlockList, isIP } from 'node:net';

function lower(s) {
  return String(s).toLowerCase();
}

function parseCidr(text) {
  const [addr, bits] = String(text).split('/');
  const family = isIP(addr);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { addr, prefix, type: family === 4 ? 'ipv4' : 'ipv6' };
}

function listOf(cidrs) {
  const list = new BlockList();
  for (const c of cidrs) {
    const p = parseCidr(c);
    if (p !== null) list.addSubnet(p.addr, p.prefix, p.type);
  }
  return list;
}

/**
 * The verdict's targets under the contract: ips (blocked; may be CIDRs), senders and auth_ids
 * (purged), scripts (disabled), sources ({kind,id}); without `sources`, the sender/senders
 * stand for mailboxes and scripts for scripts.
 */
export function targetsOf(verdict) {
  const v = verdict ?? {};
  const strings = (x) => (Array.isArray(x) ? x.filter((s) => typeof s === 'string' && s !== '') : []);
  const scripts = (Array.isArray(v.scripts) ? v.scripts : []).map((s) => (typeof s === 'string' ? s : s?.path)).filter((s) => typeof s === 'string');
  const senders = strings(v.senders);
  if (typeof v.sender === 'string' && v.sender !== '' && !senders.includes(v.sender)) senders.unshift(v.sender);
  const hasSources = Array.isArray(v.sources);
  const sources = hasSources
    ? v.sources.filter((s) => s !== null && typeof s === 'object' && typeof s.id === 'string').map((s) => ({ kind: String(s.kind ?? ''), id: s.id }))
    : [...senders.map((id) => ({ kind: 'mailbox', id })), ...scripts.map((id) => ({ kind: 'script', id }))];
  return { ips: strings(v.ips), senders, auth_ids: strings(v.auth_ids), scripts, sources, sourcesReported: hasSources, authIdsReported: Array.isArray(v.auth_ids) };
}

/** Score: found/missed sources, legitimate targets (with which), attacker coverage. */
export function score(truth, verdict) {
  const t = targetsOf(verdict);
  const sourceIds = new Set(t.sources.map((s) => lower(s.id)));
  const found = truth.sources.filter((s) => sourceIds.has(lower(s.id)));
  const missed = truth.sources.filter((s) => !sourceIds.has(lower(s.id)));
  const kindMismatch = t.sourcesReported ? truth.sources.filter((s) => t.sources.some((v) => lower(v.id) === lower(s.id) && v.kind !== s.kind)).map((s) => s.id) : [];

  const allowedIps = new Set([...truth.attackers.ips, ...(truth.hostile_ips ?? [])]);
  const attackerNets = listOf(truth.attackers.cidrs ?? []);
  const legitIps = truth.legit.ips;
  const legit = [];
  const blocked = new BlockList();
  for (const target of t.ips) {
    const p = parseCidr(target);
    if (p === null) {
      legit.push({ what: 'ip', id: target, why: 'not an address or CIDR' });
      continue;
    }
    blocked.addSubnet(p.addr, p.prefix, p.type);
    const single = p.prefix === (p.type === 'ipv4' ? 32 : 128);
    if (single && (allowedIps.has(p.addr) || attackerNets.check(p.addr, p.type))) continue;
    // A range is fine when it holds no legitimate address the logs show.
    const net = listOf([target]);
    const hits = legitIps.filter((ip) => net.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6'));
    if (single && hits.length === 0) legit.push({ what: 'ip', id: target, why: 'not an attacker address' });
    else if (hits.length > 0) legit.push({ what: 'ip', id: target, why: single ? 'legitimate address' : `range holds ${hits.length} legitimate address${hits.length === 1 ? '' : 'es'} (${hits.slice(0, 3).join(', ')}${hits.length > 3 ? ', ...' : ''})` });
  }
  const purgeSenders = new Set(truth.purge.senders.map(lower));
  for (const s of t.senders) if (!purgeSenders.has(lower(s))) legit.push({ what: 'sender', id: s, why: 'mail of a legitimate sender would be purged' });
  const purgeAuth = new Set(truth.purge.auth_ids.map(lower));
  for (const a of t.auth_ids) if (!purgeAuth.has(lower(a))) legit.push({ what: 'auth_id', id: a, why: 'mail of a legitimate login would be purged' });
  const trueScripts = new Set(truth.sources.filter((s) => s.kind === 'script').map((s) => s.id));
  for (const s of t.scripts) if (!trueScripts.has(s)) legit.push({ what: 'script', id: s, why: 'a script that is not the source would be disabled' });
  if (t.sourcesReported) {
    const trueIds = new Set(truth.sources.map((s) => lower(s.id)));
    for (const s of t.sources) if (!trueIds.has(lower(s.id))) legit.push({ what: 'source', id: s.id, why: `named as a ${s.kind} source` });
  }
  const attackersBlocked = truth.attackers.ips.filter((ip) => blocked.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6')).length;
  return {
    sources: { total: truth.sources.length, found: found.map((s) => s.id), missed: missed.map((s) => `${s.kind}:${s.id}`), kind_mismatch: kindMismatch },
    legit_targets: legit,
    attackers: { total: truth.attackers.ips.length, blocked: attackersBlocked },
    contract: { sources: t.sourcesReported, auth_ids: t.authIdsReported },
  };
}
