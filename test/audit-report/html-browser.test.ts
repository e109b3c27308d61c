import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChain, readAuditLog } from '../../src/audit/read.js';
import { renderReport } from '../../src/audit/render/index.js';
import { HOSTILE_SUBJECT, writeSpamIncidentLog } from './sample-log.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const ARTIFACTS = resolve('test-artifacts');

describe.runIf(available || process.env.CI)('HTML report in headless Chromium', () => {
  let browser: BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'runbook-chromium-'));
  let reportUrl: string;
  let head: string;

  beforeAll(async () => {
    const log = readAuditLog(writeSpamIncidentLog());
    const chain = checkChain(log);
    head = chain.head;
    const html = renderReport(log.records, 'html', { head: chain.head, chainOk: chain.ok, complete: chain.complete, problems: chain.problems });
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'incident-report.browser.html');
    writeFileSync(file, html);
    reportUrl = pathToFileURL(file).href;
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows every key section, runs no script, fetches nothing, and keeps a screenshot', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(reportUrl);

    for (const title of ['What triggered the run', 'Who ran it, from where', 'Findings', 'Gates', 'Steps and commands', 'What changed', 'What failed and is still open', 'How to undo', 'Audit log']) {
      await expect.poll(() => page.getByRole('heading', { name: title, exact: true }).isVisible()).toBe(true);
    }
    // The hostile subject is shown as text, not run.
    const subjectCell = page.locator('#findings code', { hasText: '<script>alert(1)</script>' });
    expect(await subjectCell.first().isVisible()).toBe(true);
    expect(await subjectCell.first().textContent()).toBe(HOSTILE_SUBJECT.replace(/\u001b\[\d+m/g, ''));
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests).toEqual([reportUrl]);
    expect(await page.locator('#audit').innerText()).toContain(head);
    expect(await page.locator('#failures').innerText()).toContain('You do not have an email account');

    await page.screenshot({ path: join(ARTIFACTS, 'incident-report.png'), fullPage: true });
    // Per-section shots are easier to read than one tall page.
    await page.locator('header.top').screenshot({ path: join(ARTIFACTS, 'incident-report.header.png') });
    for (const id of ['trigger', 'findings', 'steps', 'changes', 'undo', 'audit']) {
      await page.locator(`#${id}`).screenshot({ path: join(ARTIFACTS, `incident-report.${id}.png`) });
    }
    await page.emulateMedia({ media: 'print' });
    // In print the table of contents is hidden; the content stays.
    expect(await page.locator('nav.toc').isVisible()).toBe(false);
    expect(await page.locator('#changes').isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'incident-report.print.png'), fullPage: true });
    await page.close();
  }, 60_000);
});
