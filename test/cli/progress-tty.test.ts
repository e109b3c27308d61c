import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoContainScript } from '../support/demo-contain.js';
import { startOnPty } from '../support/pty.js';
import { renderScreen } from '../support/screen.js';

/** A one-gate playbook on the demo host: confirm, then chmod 000 the spam script. */
async function containScript() {
  const demo = await demoContainScript('runbook-live-');
  // Colours on: the redrawing display is the one an operator's terminal gets.
  const run = startOnPty(['apply', demo.playbook, '--host', 'demo', '--audit-dir', demo.auditDir], { env: { ...demo.env, NO_COLOR: undefined, FORCE_COLOR: undefined } });
  return run;
}

describe('the live display on a terminal', { timeout: 180_000 }, () => {
  it("keeps each finished step's result line under its host", async () => {
    const run = await containScript();
    await run.waitFor("Type 'yes' to continue");
    run.type('yes\r');
    expect(await run.exited, run.output).toBe(0);
    const screen = renderScreen(run.output);
    const host = screen.findIndex((l) => l === '✔ Applying demo');
    expect(host, screen.join('\n')).toBeGreaterThan(0);
    // The result line (wrapped to the terminal by the display) stays after the host is done.
    expect(screen[host + 1]).toMatch(/^ {2}› ● Disable the spam script: disabled \//);
    expect(screen.slice(host + 1, host + 4).join('\n')).toContain('(was 0644)');
  });

  it('a declined gate shows the host as skipped, not with a green tick', async () => {
    const run = await containScript();
    await run.waitFor("Type 'yes' to continue");
    run.type('no\r');
    expect(await run.exited, run.output).toBe(3);
    const screen = renderScreen(run.output);
    expect(screen.join('\n')).not.toMatch(/✔ Applying demo/);
    expect(run.output).not.toMatch(/\u001b\[32m✔\u001b\[39m Applying demo/);
    expect(screen).toContain('↓ Applying demo: stopped at a gate before any change');
  });
});
