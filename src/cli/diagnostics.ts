/**
 * -v / -vv: what a run did and how long it took, as pino JSON lines on stderr (stdout stays the
 * plan and result). -v logs connections and steps with their timings; -vv also every command
 * with its exit status and duration. Command argv never holds secrets (they travel on stdin,
 * which is not logged); JSON escaping keeps hostile text from reaching the terminal raw.
 */
import { pino, type Logger } from 'pino';
import type { TargetHandle } from '../engine/run.js';
import type { EngineEvent } from '../engine/types.js';
import type { Transport } from '../transport/types.js';

export function diagnosticLogger(verbose: number, destination: NodeJS.WritableStream = process.stderr): Logger | undefined {
  if (verbose <= 0) return undefined;
  return pino(
    { level: verbose >= 2 ? 'debug' : 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    destination as unknown as pino.DestinationStream,
  );
}

/** Step timings from the engine's events. */
export function diagnosticObserver(log: Logger): (event: EngineEvent) => void {
  const started = new Map<string, number>();
  return (event) => {
    if (event.type === 'step.start') {
      started.set(`${event.host}\0${event.step}`, performance.now());
      log.info({ host: event.host, step: event.step, mutates: event.mutates }, 'step start');
    } else if (event.type === 'step.finish') {
      const t0 = started.get(`${event.host}\0${event.step}`);
      const ms = t0 === undefined ? undefined : Math.round(performance.now() - t0);
      log.info({ host: event.host, step: event.step, status: event.status, ms, ...(event.error ? { error: event.error } : {}) }, 'step finish');
    } else if (event.type === 'host.finish') {
      log.info({ host: event.outcome.host, status: event.outcome.status }, 'host finish');
    }
  };
}

/** The transport with each exec logged at debug level; everything else passes through. */
function loggedTransport(transport: Transport, log: Logger): Transport {
  return new Proxy(transport, {
    get(target, property) {
      // The real transport as `this`: its getters read private fields a proxy does not have.
      const value: unknown = Reflect.get(target, property);
      if (property !== 'exec' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      return async (argv: readonly string[], options?: Parameters<Transport['exec']>[1]) => {
        const result = await target.exec(argv, options);
        log.debug({ host: target.host, argv, exitCode: result.exitCode, signal: result.signal, ms: Math.round(result.durationMs), timedOut: result.timedOut || undefined }, 'command');
        return result;
      };
    },
  });
}

/** Handles whose connections are timed (-v) and whose commands are logged (-vv). */
export function withDiagnostics(handles: TargetHandle[], log: Logger | undefined): TargetHandle[] {
  if (!log) return handles;
  return handles.map((h) => ({
    name: h.name,
    connect: async () => {
      const t0 = performance.now();
      try {
        const target = await h.connect();
        log.info({ host: h.name, ms: Math.round(performance.now() - t0) }, 'connected');
        return { ...target, transport: loggedTransport(target.transport, log) };
      } catch (error) {
        log.error({ host: h.name, ms: Math.round(performance.now() - t0), error: (error as Error).message }, 'connect failed');
        throw error;
      }
    },
  }));
}
