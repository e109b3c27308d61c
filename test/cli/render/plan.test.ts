import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../../src/actions/registry.js';
import type { PlannedStepRecord } from '../../../src/audit/records.js';
import { displayCommand, renderPlan } from '../../../src/cli/render/plan.js';
import { createStyle } from '../../../src/cli/style.js';

const SCRIPT = '/home/shopuser/public_html/wp-content/uploads/2024/wp-cache.php';
const LONG_PATH = '/home/a-customer-with-a-long-name/public_html/wp-content/plugins/some-plugin/vendor/x.php';
const IDS = Array.from({ length: 160 }, (_, i) => `1xa${String(i).padStart(3, '0')}-0001Vz-g${i % 10}`);

function step(partial: Partial<PlannedStepRecord> & Pick<PlannedStepRecord, 'step' | 'action' | 'summary'>): PlannedStepRecord {
  return { host: 'cpanel-web01.example.net', mutates: true, params: {}, commands: [], ...partial };
}

const records: PlannedStepRecord[] = [
  step({ step: 'detect', action: 'exim.detect', mutates: false, summary: 'mailbox info@shop.example.test sent 160 in 24h (160 queued of 294) from 2 addresses; also 1 script' }),
  step({ step: 'reset_password', action: 'cpanel.email.reset_password', summary: 'set a new random password for info@shop.example.test (handed over once, never logged)', commands: [['/usr/local/cpanel/bin/uapi', '--input=json', '--output=json', '--user=shopuser', 'Email', 'passwd_pop']] }),
  step({ step: 'disable_scripts', item: { index: 0, value: {} }, action: 'file.disable', summary: `chmod 000 ${SCRIPT} (now 0644)`, commands: [['chmod', '000', '--', SCRIPT]] }),
  step({ step: 'disable_scripts', item: { index: 1, value: {} }, action: 'file.disable', summary: `chmod 000 ${LONG_PATH} (now 0644)`, commands: [['chmod', '000', '--', LONG_PATH]] }),
  step({ step: 'purge', item: { index: 0, value: {} }, action: 'exim.queue.purge', summary: 'remove 160 of 294 queued messages from info@shop.example.test (headers kept as evidence first)', commands: [['/usr/sbin/exim', '-Mrm', ...IDS]] }),
  step({ step: 'block', item: { index: 0, value: {} }, action: 'csf.deny', summary: 'csf -d 203.0.113.45 "spam incident: logged in as info@shop.example.test"', commands: [['/usr/sbin/csf', '-d', '203.0.113.45', 'spam incident: logged in as info@shop.example.test']] }),
  step({ step: 'block', item: { index: 1, value: {} }, action: 'csf.deny', summary: 'csf -d 2001:db8:85a3::8a2e:370:7334 "spam incident: requested shop.example.test/wp-content/uploads/2024/wp-cache.php"', commands: [['/usr/sbin/csf', '-d', '2001:db8:85a3::8a2e:370:7334', 'spam incident: requested shop.example.test/wp-content/uploads/2024/wp-cache.php']] }),
];

const approveHint = "runbook apply playbooks/spam-incident.yml --host cpanel-web01.example.net --var 'since=24h' --audit-dir /var/log/runbook-audit --approve 3705f7c1db559af6";

function render(color: boolean): string[] {
  const text = renderPlan({ hash: '3705f7c1db559af6', records }, { playbook: 'spam-incident', dryRun: true, hosts: ['cpanel-web01.example.net'], approveHint }, createStyle(color));
  return text.split('\n');
}

const plain = (line: string) => line.replace(/\u001b\[[0-9;]*m/g, '');

describe('the plan on an 80-column terminal', () => {
  for (const color of [false, true]) {
    it(`fits 80 columns${color ? ' (in colour)' : ''}, except a single path longer than a line, which stays whole`, () => {
      for (const line of render(color).map(plain)) {
        if (line.length <= 80) continue;
        // Only a token that cannot fit on any line may overflow, alone on its line.
        expect(line.trim().replace(/ \\$/, ''), line).toMatch(/^(\S+|'[^']*')$/);
      }
    });
  }

  it('wraps between fields only: every address, path and quoted argument is whole on one line', () => {
    const lines = render(false);
    const text = lines.join('\n');
    for (const token of [SCRIPT, LONG_PATH, 'info@shop.example.test', '203.0.113.45', '2001:db8:85a3::8a2e:370:7334', "'spam incident: logged in as info@shop.example.test'"]) {
      expect(lines.some((l) => l.includes(token)), token).toBe(true);
    }
    // A wrapped command, joined back at its line continuations, is the command as typed.
    const joined = text.replace(/ \\\n +/g, ' ');
    expect(joined).toContain(`$ ${displayCommand(['/usr/sbin/csf', '-d', '2001:db8:85a3::8a2e:370:7334', 'spam incident: requested shop.example.test/wp-content/uploads/2024/wp-cache.php'])}`);
    expect(joined).toContain(`$ ${displayCommand(['/usr/sbin/exim', '-Mrm', ...IDS].slice(0, 10))} … (152 more arguments; --json lists all)`);
    // The command that applies this plan, wrapped with continuations, pastes back whole.
    expect(joined).toContain(`  ${approveHint}`);
    // A summary continues under its step, indented.
    expect(text).toMatch(/reset_password.*\n {6}\S/);
  });
});

describe('plan markers', () => {
  it('marks a gate step by its action declaring a gate, not by its name', () => {
    const gate = [...builtinActions().values()].find((a) => a.gate !== undefined)!;
    const text = renderPlan(
      { hash: '3705f7c1db559af6', records: [step({ step: 'ask', action: gate.name, mutates: false, summary: 'Contain the spam source?' }), records[1]!] },
      { playbook: 'spam-incident', dryRun: true, hosts: ['cpanel-web01.example.net'], approveHint },
      createStyle(false),
    );
    expect(text).toMatch(/^\s*\? .*Contain the spam source\?/m);
    expect(text).toMatch(/^\s*→ .*reset_password/m);
  });
});
