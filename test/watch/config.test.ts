// The watcher's config: the shipped sample loads as is, and mistakes are pinned to file:line:col
// the way playbook mistakes are.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlaybookError } from '../../src/playbook/diagnostics.js';
import { parseWatchConfig } from '../../src/watch/config.js';
import { SHIPPED_RULES } from '../../src/watch/rules.js';

const SAMPLE = 'packaging/watch.example.yml';

function problems(text: string): string[] {
  try {
    parseWatchConfig('watch.yml', text, '/etc/runbook');
  } catch (error) {
    if (error instanceof PlaybookError) return error.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`);
    throw error;
  }
  return [];
}

describe('watch config', () => {
  it('the shipped sample loads and its rules are the shipped rules', () => {
    const { config } = parseWatchConfig(SAMPLE, readFileSync(SAMPLE, 'utf8'));
    expect(config.mainlog).toBe('/var/log/exim_mainlog');
    expect(config.maillog).toBe('/var/log/maillog');
    expect(config.rules.map((r) => ({ name: r.name, key: r.key, limits: r.limits }))).toEqual(SHIPPED_RULES.map((r) => ({ name: r.name, key: r.key, limits: r.limits })));
    expect(config.allow.senders).toEqual(['newsletter@example.com']);
    expect(config.response).toMatchObject({ host: 'local', holdFor: '4h', notify: ['webhook:https://hooks.example.com/runbook'] });
  });

  it('without rules the shipped ones apply; relative paths start at the config directory', () => {
    const { config } = parseWatchConfig('/etc/runbook/watch.yml', 'logs: { mainlog: log/exim_mainlog }\nstate: state.json\nresponse: { contain_playbook: c.yml, finish_playbook: f.yml, hold_for: 4h, audit_dir: audit }\n');
    expect(config.rules).toBe(SHIPPED_RULES);
    expect(config.mainlog).toBe('/etc/runbook/log/exim_mainlog');
    expect(config.statePath).toBe('/etc/runbook/state.json');
  });

  it('mistakes are reported at file:line:col, all of them', () => {
    const text = [
      'logs: { mainlog: /var/log/exim_mainlog }',
      'state: /var/lib/runbook/state.json',
      'rules:',
      '  compromised-mailbox:',
      '    key: auth_id',
      '    limits:',
      '      - { metric: submissions, threshold: 8, window: 2m }',
      '      - { metric: messages, threshold: 40, window: an hour }',
      '    overrides:',
      '      a@b.test: { unique_recipients: 10 }',
      'allow: [ "not an entry!" ]',
      'response: { contain_playbook: c.yml, finish_playbook: f.yml, hold_for: 4h, audit_dir: a, notify: [ "email:x" ] }',
      'colour: blue',
    ].join('\n');
    expect(problems(text)).toEqual([
      "8:52: rules.compromised-mailbox.limits.1.window must be a duration such as 90s, 2m, 1h or 1h30m",
      "12:100: response.notify.0 must be webhook:URL, pagerduty:ROUTING_KEY or slack:URL (as for runbook audit attach)",
      "13:1: unknown field 'colour' in the config",
    ]);
    // Schema problems first; the rule checks run on a config of the right shape.
    const shaped = text.split('\n').slice(0, 12).join('\n').replace('an hour', '1h').replace('email:x', 'slack:https://h.test/x');
    expect(problems(shaped)).toEqual([
      "7:19: metric 'submissions' is not counted per auth_id (per auth_id: messages, recipients, unique_recipients, deferrals, failures)",
      "10:19: rule 'compromised-mailbox' has no limit on 'unique_recipients' to override (its limits: submissions, messages)",
      '11:10: "not an entry!" is not a sender (x@domain), a domain, a directory (/path) or an address/CIDR',
    ]);
  });

  it('broken YAML is pinned like a playbook\'s', () => {
    expect(problems('logs: { mainlog: "/var/log/exim_mainlog }\n')[0]).toMatch(/^1:\d+: invalid YAML: unclosed '"'/);
  });
});
