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

/** A step's mark: only what worked is green; a step not run (declined gate, skip) is dim. */
function statusMark(status: string, style: Style): string {
  const mark = STATUS_MARK[status] ?? '?';
  if (status === 'failed') return style.red(mark);
  if (status === 'changed' || status === 'interrupted') return style.yellow(mark);
  if (status === 'skipped') return style.dim(mark);
  return style.green(mark);
}

/** A finished step as one line: mark, title, and what it did or why it failed. */
function stepLine(event: Extract<EngineEvent, { type: 'step.finish' }>, style: Style, hostPrefix = ''): string {
  const detail = event.error ?? event.summary;
  return `${statusMark(event.status, style)} ${hostPrefix}${safeLine(event.title)}${detail ? `: ${safeLine(detail)}` : ''}`;
}

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
        case 'step.progress':
          write(`${style.dim('…')} [${safeLine(event.host)}] ${safeLine(event.step)}: ${safeLine(event.message)}`);
          break;
        case 'step.finish':
          write(stepLine(event, style, `[${safeLine(event.host)}] `));
          break;
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
  /** Ends the row: failed with a message, skipped with why, or done. */
  settle: (end: { failed?: string; skipped?: string }) => void;
  promise: Promise<{ failed?: string; skipped?: string }>;
  /** Result lines of finished steps: they stay on screen. */
  finished: string[];
  /** What runs now (replaced as it goes). */
  current?: string;
}

/**
 * Whether a live, redrawn display fits the terminal. A pseudo-terminal without a size (0
 * columns, as under `script` or some CI runners) gets line-by-line progress instead: a redrawn
 * one would wrap every character onto its own line.
 */
export function canRedraw(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && (stream.columns ?? 0) >= 40;
}

/** listr2 task list, one row per host with its finished steps under it, for a colour terminal. */
export function listrProgress(style: Style): ProgressView {
  let tasks = new Map<string, HostTask>();
  let running: Promise<unknown> = Promise.resolve();
  const show = (t: HostTask) => {
    if (t.task) t.task.output = [...t.finished, ...(t.current ? [t.current] : [])].join('\n');
  };
  const settle = (host: string, end: { failed?: string; skipped?: string } = {}) => {
    const t = tasks.get(host);
    if (!t) return;
    delete t.current;
    show(t);
    t.settle(end);
  };
  return {
    phase(title, hosts) {
      tasks = new Map();
      const list = new Listr(
        hosts.map((host) => {
          let settleWith!: HostTask['settle'];
          const promise = new Promise<{ failed?: string; skipped?: string }>((resolve) => {
            settleWith = resolve;
          });
          const entry: HostTask = { settle: settleWith, promise, finished: [] };
          tasks.set(host, entry);
          return {
            title: `${title} ${safeLine(host)}`,
            task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
              entry.task = task;
              show(entry);
              const end = await entry.promise;
              if (end.failed !== undefined) throw new Error(end.failed);
              if (end.skipped !== undefined) task.skip(`${title} ${safeLine(host)}: ${end.skipped}`);
            },
            // One output entry (the whole block, rewritten on each change), kept when the host is done.
            rendererOptions: { persistentOutput: true, outputBar: 1 } as never,
          };
        }),
        // listr2's own SIGINT listener would exit the process (127) mid-run; the run's interrupt
        // handling must close the audit log and release the host locks first.
        { concurrent: true, exitOnError: false, registerSignalListeners: false, rendererOptions: { collapseErrors: false, collapseSkips: true, showSkipMessage: true }, renderer: 'default' } as never,
      );
      running = list.run().catch(() => undefined);
    },
    async end() {
      for (const host of tasks.keys()) settle(host);
      await running;
    },
    observer(event: EngineEvent) {
      const t = 'host' in event ? tasks.get(event.host) : undefined;
      switch (event.type) {
        case 'step.start':
          if (t) t.current = `${safeLine(event.title)}…`;
          break;
        case 'step.progress':
          if (t) t.current = `${safeLine(event.step)}: ${safeLine(event.message)}`;
          break;
        case 'step.finish':
          if (t) {
            t.finished.push(stepLine(event, style));
            delete t.current;
          }
          break;
        case 'plan.host':
          if (event.status === 'done') settle(event.host);
          if (event.status === 'failed') settle(event.host, { failed: event.error ?? 'failed' });
          return;
        case 'host.finish': {
          const o = event.outcome;
          if (o.status === 'failed' || o.status === 'unreachable') settle(o.host, { failed: safeLine(o.error ?? o.status) });
          else if (o.status === 'skipped') settle(o.host, { skipped: safeLine(o.error ?? 'skipped') });
          else settle(o.host);
          return;
        }
      }
      if (t) show(t);
    },
  };
}
