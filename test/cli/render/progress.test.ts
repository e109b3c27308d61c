import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainProgress } from '../../../src/cli/render/progress.js';
import { createStyle } from '../../../src/cli/style.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('line-by-line progress (no terminal)', () => {
  it('shows what a running step reports, such as the queue watch with elapsed and remaining time', () => {
    const out = sink();
    const view = plainProgress(out.stream, createStyle(false));
    view.phase('Applying', ['web1']);
    view.observer({ type: 'step.progress', host: 'web1', step: 'verify', message: 'queue 14, from info@shop.example.test: 0 (0 new); 0:15 of 5:00, 4:45 left' });
    expect(out.lines()).toEqual(['… [web1] verify: queue 14, from info@shop.example.test: 0 (0 new); 0:15 of 5:00, 4:45 left']);
  });

  it('marks only steps that worked in green: a step not run after a declined gate is dim', () => {
    const out = sink();
    const view = plainProgress(out.stream, createStyle(true));
    view.observer({ type: 'step.finish', host: 'web1', step: 'reset', title: 'Reset the mailbox password', status: 'skipped', summary: 'not run: stopped at a gate' });
    view.observer({ type: 'step.finish', host: 'web1', step: 'detect', title: 'Find the spam source', status: 'ok', summary: 'mailbox' });
    const [skipped, ok] = out.lines();
    expect(skipped).toBe('\u001b[2m-\u001b[22m [web1] Reset the mailbox password: not run: stopped at a gate');
    expect(ok).toBe('\u001b[32m✓\u001b[39m [web1] Find the spam source: mailbox');
  });
});
