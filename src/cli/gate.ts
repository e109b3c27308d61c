import { createInterface } from 'node:readline/promises';
import { userInfo } from 'node:os';
import { safeLine } from '../core/text.js';
import type { GateAnswer, GateQuestion, Gatekeeper } from '../engine/types.js';
import type { Style } from './style.js';

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/**
 * Gates fail closed: --yes accepts, a terminal asks, and anything else refuses before the
 * first mutation.
 */
export function createGatekeeper(options: {
  yes: boolean;
  interactive: boolean;
  style: Style;
  /** How to run again non-interactively, for the refusal message. */
  retryHint?: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}): Gatekeeper {
  return {
    async ask(question: GateQuestion): Promise<GateAnswer> {
      if (options.yes) return { answer: 'accepted', by: '--yes' };
      if (!options.interactive) {
        return {
          answer: 'refused',
          by: 'no-tty',
          reason: `no terminal to confirm on and --yes was not given; nothing was changed. Review the plan, then run again with ${options.retryHint ?? '--yes'}`,
        };
      }
      const output = options.output ?? process.stderr;
      const s = options.style;
      const n = question.mutations;
      const verb = n === 1 ? 'follows' : 'follow';
      const follow = n === question.plannedChanges ? `${n} change${n === 1 ? '' : 's'} ${verb}` : `${n} of the ${question.plannedChanges} planned changes ${verb}`;
      output.write(`\n${s.yellow('Gate')} ${s.bold(question.gate)} — plan ${s.bold(question.planHash)}: ${follow}\n`);
      for (const m of question.messages) output.write(`  ${s.bold(safeLine(m.host))}: ${safeLine(m.message)}\n`);
      const rl = createInterface({ input: options.input ?? process.stdin, output, terminal: true });
      // readline swallows Ctrl-C on a terminal; hand it to the run's interrupt handling so the
      // run ends as interrupted (exit 130), not as a declined gate.
      let interrupted = false;
      // A closed readline leaves a pending question unsettled; aborting settles it.
      const closed = new AbortController();
      rl.on('close', () => closed.abort());
      rl.on('SIGINT', () => {
        interrupted = true;
        rl.close();
        process.emit('SIGINT', 'SIGINT');
      });
      try {
        const reply = (await rl.question("Type 'yes' to continue, anything else stops here: ", { signal: closed.signal })).trim().toLowerCase();
        if (reply === 'yes') return { answer: 'accepted', by: `tty:${operatorName()}` };
        return { answer: 'declined', by: `tty:${operatorName()}`, reason: `operator answered ${JSON.stringify(reply.slice(0, 40))}` };
      } catch {
        return { answer: 'declined', by: `tty:${operatorName()}`, reason: interrupted ? 'interrupted at the prompt (Ctrl-C)' : 'the prompt was closed' };
      } finally {
        rl.close();
      }
    },
  };
}
