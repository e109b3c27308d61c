import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hardenCheck } from '../../src/actions/harden/check.js';
import { csfConfSet } from '../../src/actions/harden/csf-conf.js';
import { getTweakSetting, tweakSettingSet } from '../../src/actions/harden/tweaksetting.js';
import { makeSimHost, type TestSimHost } from '../fixtures/sim-host.js';
import { makeContext, mutating, planAndRun, type TestContext } from './support/context.js';

describe('harden.check, cpanel.tweaksetting.set, csf.conf.set on a simulated host', () => {
  let host: TestSimHost;
  let ctx: TestContext;
  beforeEach(() => {
    host = makeSimHost();
    ctx = makeContext({ tools: host.tools, layout: host.layout });
  });
  afterEach(() => host.cleanup());

  it('the check lists the unsafe defaults and which action changes each', async () => {
    const result = await hardenCheck.run(ctx, {});
    expect(result.changed).toBe(false);
    expect(result.outputs['tweak_changes']).toEqual([
      { key: 'maxemailsperhour', value: '500' },
      { key: 'email_send_limits_max_defer_fail_percentage', value: '25' },
      { key: 'email_outbound_spam_detect_action', value: 'hold' },
    ]);
    expect(result.outputs['csf_changes']).toEqual([{ key: 'LF_SCRIPT_ALERT', value: '1' }]);
    expect(result.summary).toContain('maxemailsperhour unset → "500"');
    expect(result.summary).toContain(`${host.layout.csfDir}/csf.conf: LF_SCRIPT_ALERT = "1"`);
  });

  it('sets a tweak setting, records the old (unset) value, and the undo unsets it again', async () => {
    const { plan, result } = await planAndRun(tweakSettingSet, ctx, { key: 'maxemailsperhour', value: '500' });
    expect(plan.commands.map((c) => c.argv)).toEqual([[host.tools.whmapi1, '--output=json', 'set_tweaksetting', 'key=maxemailsperhour', 'value=500']]);
    expect(await getTweakSetting(ctx, 'maxemailsperhour')).toBe('500');
    expect(result.undo).toEqual([{ action: 'cpanel.tweaksetting.set', params: { key: 'maxemailsperhour', value: '' }, description: expect.any(String) }]);
    expect((await mutating(tweakSettingSet).plan(ctx, { key: 'maxemailsperhour', value: '500' } as never)).noop).toBe(true);
    await planAndRun(tweakSettingSet, ctx, result.undo![0]!.params);
    expect(await getTweakSetting(ctx, 'maxemailsperhour')).toBeUndefined();
  });

  it("fails with cPanel's own reason when it refuses a value", async () => {
    const plan = await mutating(tweakSettingSet).plan(ctx, { key: 'email_send_limits_defer_cutoff', value: '50' } as never);
    await expect(mutating(tweakSettingSet).run(ctx, { key: 'email_send_limits_defer_cutoff', value: '50' } as never, plan)).rejects.toThrow(/cPanel did not set email_send_limits_defer_cutoff: Value must be a number between 100 and 10000/);
    await expect(mutating(tweakSettingSet).plan(ctx, { key: 'no_such_key', value: '1' } as never)).rejects.toThrow(/Invalid tweaksetting key/);
  });

  it('edits one csf.conf line in place (mode kept), and the undo restores the file byte for byte', async () => {
    const conf = join(host.layout.csfDir, 'csf.conf');
    const before = readFileSync(conf, 'utf8');
    const { plan, result } = await planAndRun(csfConfSet, ctx, { key: 'LF_SCRIPT_ALERT', value: '1' });
    expect(plan.commands[0]!.argv).toEqual(['sed', '-i', '-E', 's/^LF_SCRIPT_ALERT[[:space:]]*=.*$/LF_SCRIPT_ALERT = "1"/', conf]);
    expect(readFileSync(conf, 'utf8')).toBe(before.replace('LF_SCRIPT_ALERT = "0"', 'LF_SCRIPT_ALERT = "1"'));
    expect(statSync(conf).mode & 0o777).toBe(0o600);
    await planAndRun(csfConfSet, ctx, result.undo![0]!.params);
    expect(readFileSync(conf, 'utf8')).toBe(before);
  });

  it('refuses a key csf.conf lacks, a missing csf.conf, and a change made since the plan', async () => {
    await expect(mutating(csfConfSet).plan(ctx, { key: 'NO_SUCH_SETTING', value: '1' } as never)).rejects.toThrow(/has no NO_SUCH_SETTING line/);
    const conf = join(host.layout.csfDir, 'csf.conf');
    const plan = await mutating(csfConfSet).plan(ctx, { key: 'LF_SCRIPT_ALERT', value: '1' } as never);
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('LF_SCRIPT_ALERT = "0"', 'LF_SCRIPT_ALERT = "2"'));
    await expect(mutating(csfConfSet).run(ctx, { key: 'LF_SCRIPT_ALERT', value: '1' } as never, plan)).rejects.toThrow(/is "2" now, not "0" as planned/);
    rmSync(conf);
    await expect(mutating(csfConfSet).plan(ctx, { key: 'LF_SCRIPT_ALERT', value: '1' } as never)).rejects.toThrow(/CSF is not installed/);
    const check = await hardenCheck.run(ctx, {});
    expect(check.outputs['csf_installed']).toBe(false);
    expect(check.summary).toContain('CSF not installed');
  });
});
