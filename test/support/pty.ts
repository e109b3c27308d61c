import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The keys an operator presses, as the terminal sends them. */
export const CTRL_C = '\u0003';

export interface PtyRun {
  /** Everything the program wrote to the terminal so far (raw, escapes included). */
  readonly output: string;
  /** Resolves once the output (from `from` on) matches; rejects if the program ends first. */
  waitFor(pattern: string | RegExp, from?: number): Promise<number>;
  /** Types on the terminal: the line discipline turns Ctrl-C into SIGINT as for an operator. */
  type(keys: string): void;
  /** The exit code (the program's own: `script -e`). */
  readonly exited: Promise<number | null>;
}

/**
 * Runs the built CLI on a real pseudo-terminal of `columns` x `rows` (util-linux `script`; `stty`
 * sets the size, which `script` leaves at 0x0 when its own input is not a terminal). The run is
 * driven by what appears on the terminal, never by timers.
 */
export function startOnPty(args: string[], options: { env?: Record<string, string | undefined>; columns?: number; rows?: number } = {}): PtyRun {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const size = `stty cols ${options.columns ?? 100} rows ${options.rows ?? 50}`;
  const command = `${size} && exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, TERM: 'xterm-256color', ...options.env })) if (v !== undefined) env[k] = v;
  const child: ChildProcess = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let ended = false;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    output += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // A guard against a hung program only; the assertions never depend on it.
  const guard = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      ended = true;
      for (const l of [...listeners]) l();
      resolve(code);
    });
  });
  return {
    get output() {
      return output;
    },
    exited,
    type(keys) {
      child.stdin!.write(keys);
    },
    waitFor(pattern, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const rest = output.slice(from);
          const at = typeof pattern === 'string' ? rest.indexOf(pattern) : rest.search(pattern);
          if (at >= 0) {
            listeners.delete(check);
            resolve(from + at);
          } else if (ended) {
            listeners.delete(check);
            reject(new Error(`the program ended before ${String(pattern)} appeared:\n${output}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}
