import { Listr, type ListrTaskWrapper } from 'listr2';
import { safeLine } from '../../core/text.js';
import type { EngineEvent, EngineObserver } from '../../engine/types.js';
import type { Style } from '../style.js';

export interface ProgressView {
  observer: EngineObserver;
  /** Starts showing a phase for these hosts ('Planning', 'Applying'). */
  phase(title: string, hosts: string[]): void;
  /** Ends the current phase and waits for the view to settle. */
  end(): Promise<void>;
}

const STATUS_MARK: Record<string, string> = { ok: '✓', changed: '●', skipped: '-', failed: '✗', interrupted: '!' };

/** One line per event on stderr: for logs, CI and anything that is not a terminal. */
export function plainProgress(stream: NodeJS.WritableStream, style: Style, quiet = false): ProgressView {
  let phaseName = '';
  const write = (line: string) => {
    if (!quiet) stream.write(`${line}\n`);
  };
  return {
    phase(title) {
      phaseName = title;
    },
    async end() {},
    observer(event: EngineEvent) {
      switch (event.type) {
        case 'plan.host':
          if (event.status === 'failed') write(`${style.red('✗')} [${safeLine(event.host)}] ${phaseName.toLowerCase()} failed: ${safeLine(event.error ?? '')}`);
          break;
        case 'step.finish': {
          const mark = STATUS_MARK[event.status] ?? '?';
          const colored = event.status === 'failed' ? style.red(mark) : event.status === 'changed' ? style.yellow(mark) : style.green(mark);
          const detail = event.error ?? event.summary;
          write(`${colored} [${safeLine(event.host)}] ${safeLine(event.title)}${detail ? `: ${safeLine(detail)}` : ''}`);
          break;
        }
        case 'host.finish':
          write(`${style.bold('=')} [${safeLine(event.outcome.host)}] ${event.outcome.status}${event.outcome.error ? `: ${safeLine(event.outcome.error)}` : ''}`);
          break;
        default:
          break;
      }
    },
  };
}

interface HostTask {
  task?: ListrTaskWrapper<unknown, never, never>;
  done: () => void;
  fail: (message: string) => void;
  promise: Promise<void>;
  lastOutput?: string;
}

/** listr2 task list, one row per host, for an interactive terminal. */
/**
 * Whether a live, redrawn display fits the terminal. A pseudo-terminal without a size (0
 * columns, as under `script` or some CI runners) gets line-by-line progress instead: a redrawn
 * one would wrap every character onto its own line.
 */
export function canRedraw(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) >= 40;
}

export function listrProgress(style: Style): ProgressView {
  let tasks = new Map<string, HostTask>();
  let running: Promise<unknown> = Promise.resolve();
  const settle = (host: string, error?: string) => {
    const t = tasks.get(host);
    if (!t) return;
    if (error) t.fail(error);
    else t.done();
  };
  return {
    phase(title, hosts) {
      tasks = new Map();
      const list = new Listr(
        hosts.map((host) => {
          let done!: () => void;
          let fail!: (message: string) => void;
          const promise = new Promise<void>((resolve, reject) => {
            done = resolve;
            fail = (message) => reject(new Error(message));
          });
          promise.catch(() => undefined);
          const entry: HostTask = { done, fail, promise };
          tasks.set(host, entry);
          return {
            title: `${title} ${safeLine(host)}`,
            task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
              entry.task = task;
              if (entry.lastOutput) task.output = entry.lastOutput;
              await entry.promise;
            },
          };
        }),
        { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false }, renderer: style.enabled ? 'default' : 'simple' } as never,
      );
      running = list.run().catch(() => undefined);
    },
    async end() {
      for (const host of tasks.keys()) settle(host);
      await running;
    },
    observer(event: EngineEvent) {
      const update = (host: string, text: string) => {
        const t = tasks.get(host);
        if (!t) return;
        t.lastOutput = safeLine(text);
        if (t.task) t.task.output = t.lastOutput;
      };
      switch (event.type) {
        case 'step.start':
          update(event.host, `${event.title}…`);
          break;
        case 'step.progress':
          update(event.host, `${event.step}: ${event.message}`);
          break;
        case 'step.finish':
          update(event.host, `${event.title}: ${event.status}${event.error ? ` — ${event.error}` : event.summary ? ` — ${event.summary}` : ''}`);
          break;
        case 'plan.host':
          if (event.status === 'done') settle(event.host);
          if (event.status === 'failed') settle(event.host, event.error ?? 'failed');
          break;
        case 'host.finish':
          settle(event.outcome.host, event.outcome.status === 'failed' || event.outcome.status === 'unreachable' ? event.outcome.error ?? event.outcome.status : undefined);
          break;
      }
    },
  };
}
