import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsfDenyOutput, parseCsfRemoveOutput } from '../../src/parsers/csf-output.js';
import { parseCsfList } from '../../src/parsers/csf-lists.js';
import { parseUapiCpanelEnvelope, parseUapiEnvelope, parseWhmEnvelope } from '../../src/parsers/cpanel-envelope.js';
import { parseUserdomains } from '../../src/parsers/cpanel-userdomains.js';

describe('csf -d output', () => {
  it('reads a deny with iptables', () => {
    const r = parseCsfDenyOutput('Adding 45.33.12.7 to csf.deny and iptables DROP...\nDROP  all opt -- in !lo out *  45.33.12.7  -> 0.0.0.0/0\n');
    expect(r.outcome).toEqual({ kind: 'denied' });
    expect(r.testing).toBe(false);
    expect(r.rotated).toEqual([]);
  });

  it('reads TESTING mode', () => {
    const r = parseCsfDenyOutput(
      'Adding 45.33.12.7 to csf.deny only while in TESTING mode (not iptables DROP)\n*WARNING* TESTING mode is enabled - do not forget to disable it in the configuration\n',
    );
    expect(r.outcome.kind).toBe('denied');
    expect(r.testing).toBe(true);
  });

  it('reads every refusal CSF prints with exit 0', () => {
    expect(parseCsfDenyOutput('deny failed: 45.33.12.7 is in already in the deny file /etc/csf/csf.deny 2 times\n').outcome).toEqual({ kind: 'already', times: 2 });
    expect(parseCsfDenyOutput('deny failed: 45.33.12.7 is in the allow file /etc/csf/csf.allow\n').outcome).toEqual({ kind: 'in-allow', file: '/etc/csf/csf.allow' });
    expect(parseCsfDenyOutput('deny failed: 45.33.12.7 is in the ignore file /etc/csf/csf.ignore\n').outcome).toEqual({ kind: 'in-ignore', file: '/etc/csf/csf.ignore' });
    expect(parseCsfDenyOutput('deny failed: [192.0.2.10] is one of this servers addresses!\n').outcome).toEqual({ kind: 'own-address' });
    expect(parseCsfDenyOutput('deny failed: [10.0.0.1] is not a valid PUBLIC IP/CIDR\n').outcome).toEqual({ kind: 'invalid' });
    expect(parseCsfDenyOutput("csf and lfd have been disabled, use 'csf -e' to enable\n").outcome).toEqual({ kind: 'disabled' });
    expect(parseCsfDenyOutput('something new\n').outcome).toEqual({ kind: 'unknown' });
  });

  it('reports entries DENY_IP_LIMIT rotated out', () => {
    const r = parseCsfDenyOutput(
      "csf: DENY_IP_LIMIT (2), the following IP's were removed from /etc/csf/csf.deny:\n" +
        '45.33.12.1 # old spam - Sun Nov 22 10:56:28 2026\n2a01:4f8::1 # older\n' +
        'Adding 45.33.12.7 to csf.deny and iptables DROP...\n',
    );
    expect(r.outcome.kind).toBe('denied');
    expect(r.denyLimit).toBe(2);
    expect(r.rotated).toEqual(['45.33.12.1', '2a01:4f8::1']);
  });

  it('never throws and never invents a deny from arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const r = parseCsfDenyOutput(text);
        if (r.outcome.kind === 'denied') expect(text).toMatch(/Adding \S+ to csf\.deny/);
        expect(Array.isArray(r.rotated)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('csf -dr output', () => {
  it('reads removal, absence and do-not-delete', () => {
    expect(parseCsfRemoveOutput('Removing rule...\n').outcome).toEqual({ kind: 'removed', rules: 1 });
    expect(parseCsfRemoveOutput('csf: 45.33.12.7 not found in csf.deny\n').outcome).toEqual({ kind: 'not-found' });
    expect(parseCsfRemoveOutput('csf: 45.33.12.7 set as "do not delete" - not removed\n').outcome).toEqual({ kind: 'do-not-delete' });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (t) => void parseCsfRemoveOutput(t)), { numRuns: 300 });
  });
});

describe('csf list files', () => {
  it('reads addresses, CIDRs, comments, includes and advanced rules', () => {
    const list = parseCsfList('# header\n45.33.12.7 # office\n10.1.0.0/16\nInclude /etc/csf/cpanel.allow\ntcp|in|d=22|s=198.51.100.9\n2a01:4f8::/32 # v6\n');
    expect(list.includes).toEqual(['/etc/csf/cpanel.allow']);
    expect(list.entries.map((e) => [e.address, e.advanced, e.line])).toEqual([
      ['45.33.12.7', false, 2],
      ['10.1.0.0/16', false, 3],
      ['198.51.100.9', true, 5],
      ['2a01:4f8::/32', false, 6],
    ]);
    expect(list.entries[0]?.comment).toBe('office');
  });

  it('never throws and only yields address-shaped entries', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => {
        for (const e of parseCsfList(t).entries) expect(e.address).toMatch(/^[0-9A-Fa-f:.]+(\/\d+)?$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('cPanel envelopes', () => {
  it('UAPI: status decides, curly-quoted errors kept verbatim', () => {
    const fail = parseUapiEnvelope(JSON.stringify({ apiversion: 3, func: 'passwd_pop', module: 'Email', result: { data: null, errors: ['You do not have an email account named “x@y.test”.'], messages: null, metadata: {}, status: 0, warnings: null } }));
    expect(fail.ok).toBe(false);
    expect(fail.errors).toEqual(['You do not have an email account named “x@y.test”.']);
    const ok = parseUapiEnvelope(JSON.stringify({ result: { data: 1, errors: null, status: 1 } }));
    expect(ok.ok).toBe(true);
    expect(parseUapiEnvelope('The user “x” is not a valid cPanel user.').envelope).toBe(false);
  });

  it('WHM: metadata.result decides', () => {
    expect(parseWhmEnvelope(JSON.stringify({ metadata: { result: 1, reason: 'OK' } })).ok).toBe(true);
    const r = parseWhmEnvelope(JSON.stringify({ metadata: { result: 0, reason: 'No such user' } }));
    expect(r.ok).toBe(false);
    expect(r.errors).toEqual(['No such user']);
  });

  it('uapi_cpanel: needs WHM success AND the nested UAPI status, in both shapes', () => {
    const flat = { data: { uapi: { status: 1, errors: null, data: null } }, metadata: { result: 1, reason: 'OK' } };
    const nested = { data: { uapi: { result: { status: 1, errors: null } } }, metadata: { result: 1 } };
    const innerFail = { data: { uapi: { status: 0, errors: ['Sorry, the password you selected cannot be used because it is too weak'] } }, metadata: { result: 1 } };
    expect(parseUapiCpanelEnvelope(JSON.stringify(flat)).ok).toBe(true);
    expect(parseUapiCpanelEnvelope(JSON.stringify(nested)).ok).toBe(true);
    expect(parseUapiCpanelEnvelope(JSON.stringify(innerFail)).ok).toBe(false);
    expect(parseUapiCpanelEnvelope(JSON.stringify(innerFail)).errors[0]).toMatch(/too weak/);
    expect(parseUapiCpanelEnvelope(JSON.stringify({ metadata: { result: 1 } })).ok).toBe(false);
    expect(parseUapiCpanelEnvelope(JSON.stringify({ data: { uapi: { status: 1 } }, metadata: { result: 0, reason: 'denied' } })).ok).toBe(false);
  });

  it('never reports success for arbitrary JSON without status 1', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        for (const parse of [parseUapiEnvelope, parseWhmEnvelope, parseUapiCpanelEnvelope]) {
          const r = parse(text);
          if (r.ok) expect(text).toMatch(/"(status|result)":(1|"1"|true)/);
          else expect(r.errors.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('userdomains', () => {
  it('maps domains to owners, lower-cased, skipping the catch-all', () => {
    const map = parseUserdomains('Shop.Example.test: shopuser\n*: nobody\nbroken line\nblog.example.test: blogger\n');
    expect([...map]).toEqual([
      ['shop.example.test', 'shopuser'],
      ['blog.example.test', 'blogger'],
    ]);
  });
});
