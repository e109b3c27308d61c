import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createGatekeeper } from '../../src/cli/gate.js';
import { createStyle } from '../../src/cli/style.js';
import type { GateQuestion } from '../../src/engine/types.js';

function terminal() {
  const input = new PassThrough();
  let shown = '';
  const waiting: Array<() => void> = [];
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      shown += chunk.toString();
      for (const w of waiting.splice(0)) w();
      done();
    },
  });
  /** Resolves once the prompt is on the screen. */
  const prompted = () =>
    new Promise<void>((resolve) => {
      const check = () => (shown.includes("Type 'yes'") ? resolve() : waiting.push(check));
      check();
    });
  return { input, output, prompted, shown: () => shown };
}

const question: GateQuestion = {
  gate: 'contain',
  messages: [{ host: 'web1', message: 'Contain info@shop.example.test' }],
  mutations: 3,
  planHash: '3705f7c1db559af6',
  plannedChanges: 8,
};

describe('the gate prompt on a terminal', () => {
  it('repeats the plan hash and how many of the planned changes follow', async () => {
    const t = terminal();
    const gate = createGatekeeper({ yes: false, interactive: true, style: createStyle(false), input: t.input, output: t.output });
    const answer = gate.ask(question);
    await t.prompted();
    t.input.write('yes\n');
    expect(await answer).toMatchObject({ answer: 'accepted' });
    expect(t.shown()).toContain('Gate contain — plan 3705f7c1db559af6: 3 of the 8 planned changes follow');
  });

  it('says "N changes follow" when the gate lets the whole plan through', async () => {
    const t = terminal();
    const gate = createGatekeeper({ yes: false, interactive: true, style: createStyle(false), input: t.input, output: t.output });
    const answer = gate.ask({ ...question, mutations: 8 });
    await t.prompted();
    t.input.write('no\n');
    expect(await answer).toMatchObject({ answer: 'declined', reason: 'operator answered "no"' });
    expect(t.shown()).toContain('Gate contain — plan 3705f7c1db559af6: 8 changes follow');
  });

  it('a prompt closed without an answer (end of input) declines instead of hanging', async () => {
    const t = terminal();
    const gate = createGatekeeper({ yes: false, interactive: true, style: createStyle(false), input: t.input, output: t.output });
    const answer = gate.ask(question);
    await t.prompted();
    t.input.end();
    expect(await answer).toMatchObject({ answer: 'declined', reason: 'the prompt was closed' });
  });
});
