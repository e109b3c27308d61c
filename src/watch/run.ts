/**
 * What `runbook watch` does once its config is read: open the watcher, hand every trigger to
 * the responder one at a time, report each trigger and outcome, and either stop after one read
 * (`--once`) or follow the logs until told to stop. A trigger is marked answered in the state
 * only when its response came back without being interrupted; an interrupted or unanswered one
 * is handed over again by the next run. The responder is given, never built here.
 */
import { safeLine } from '../core/text.js';
import { terminalSafeJson } from '../core/terminal-safe.js';
import { formatDuration } from '../core/duration.js';
import type { WatchConfig } from './config.js';
import type { FollowNotice } from './follow.js';
import type { ResponseOutcome, Trigger, TriggerResponder } from './types.js';
import { Watcher, type Progress } from './watcher.js';

export interface WatchRunOptions {
  once: boolean;
  json: boolean;
  verbose: number;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Aborted to stop (SIGTERM): the read under way finishes, the state is saved. */
  signal: AbortSignal;
  /**
   * Aborted to reload (SIGHUP): following stops as on `signal`, but a response under way is
   * left to finish (a reload must not interrupt containment); the caller starts again.
   */
  reload?: AbortSignal;
}

export interface WatchRunResult {
  triggers: number;
  outcomes: ResponseOutcome[];
  /** Responses that did not contain their trigger (failed or refused). */
  unsuccessful: number;
  interrupted: boolean;
}

function jsonLine(value: unknown): string {
  return `${terminalSafeJson(JSON.stringify(value))}\n`;
}

function describeTrigger(t: Trigger): string {
  const o = t.observed;
  return safeLine(`TRIPPED ${t.rule} ${t.key.kind}=${t.key.value}: ${o.metric} ${o.value} in ${formatDuration(o.windowSeconds * 1000)} (threshold ${o.threshold}); first ${t.firstSeen}, tripped ${t.trippedAt} [${t.id}]`);
}

function describeOutcome(o: ResponseOutcome): string {
  const lines = [`  ${o.status}${o.auditLog !== undefined ? `: audit log ${o.auditLog}` : ''}`];
  if (o.approveCommand !== undefined) lines.push(`  to finish: ${o.approveCommand}`);
  if (o.notified.length > 0) lines.push(`  notified: ${o.notified.join(', ')}`);
  for (const e of o.errors) lines.push(`  error: ${e}`);
  return lines.map((l) => safeLine(l)).join('\n');
}

function describeNotice(n: FollowNotice): string {
  if (n.type === 'gap') return safeLine(`warning: ${n.file}: ${n.reason}`);
  return safeLine(`${n.file} was ${n.how === 'renamed' ? 'rotated (renamed)' : n.how}${n.restFrom !== null ? `; read the last ${n.restBytes} bytes from ${n.restFrom}` : ''}`);
}

export async function runWatch(config: WatchConfig, responder: TriggerResponder, options: WatchRunOptions): Promise<WatchRunResult> {
  const { out, err, json } = options;
  const watcher = await Watcher.open({
    mainlog: config.mainlog,
    ...(config.maillog !== undefined ? { maillog: config.maillog } : {}),
    statePath: config.statePath,
    rules: config.rules,
    allow: config.allow,
    startAt: config.startAt,
    maxKeys: config.maxKeys,
    maxDistinct: config.maxDistinct,
    joinSeconds: config.joinSeconds,
    maxMessages: config.maxMessages,
    saveEverySeconds: options.once ? 0 : config.saveEverySeconds,
    rescanSeconds: config.rescanSeconds,
  });
  const result: WatchRunResult = { triggers: 0, outcomes: [], unsuccessful: 0, interrupted: false };
  const responses = new AbortController();
  const stopResponses = (): void => responses.abort(options.signal.reason);
  options.signal.addEventListener('abort', stopResponses, { once: true });

  // Triggers reach the responder from the follow loop (long-running) or from the one read (--once).
  const fromEvents = !options.once;
  watcher.on('notice', (n) => {
    if (json) out.write(jsonLine({ type: 'notice', notice: n }));
    else err.write(`${describeNotice(n)}\n`);
  });
  if (options.verbose > 0) {
    watcher.on('progress', (p: Progress[]) => {
      if (json) out.write(jsonLine({ type: 'progress', files: p }));
      else for (const f of p) err.write(`${safeLine(`read ${f.file} up to byte ${f.offset}${f.saved ? ' (saved)' : ''}`)}\n`);
    });
  }

  // One response at a time, in the order the triggers fired.
  let queue: Promise<void> = Promise.resolve();
  const hand = (triggers: Trigger[], resumed: boolean): void => {
    for (const t of triggers) {
      result.triggers++;
      if (json) out.write(jsonLine({ type: 'trigger', resumed, trigger: t }));
      else out.write(`${describeTrigger(t)}${resumed ? ' (unanswered by the last run, handed over again)' : ''}\n`);
      queue = queue.then(async () => {
        if (responses.signal.aborted) return;
        let outcome: ResponseOutcome;
        try {
          outcome = await responder.respond(t, responses.signal);
        } catch (error) {
          outcome = { trigger: t.id, status: 'failed', notified: [], errors: [error instanceof Error ? error.message : String(error)] };
        }
        result.outcomes.push(outcome);
        if (outcome.status !== 'contained') result.unsuccessful++;
        // Answered (and saved so) before it is reported. A response that did not contain it because
        // the watcher was stopping is handed over again by the next run.
        if (outcome.status === 'contained' || !responses.signal.aborted) {
          try {
            await watcher.settle(t.id);
          } catch (error) {
            // Without a saved state the next run would hand it over again: stop (systemd restarts).
            watcher.emit('error', error as Error);
          }
        }
        if (json) out.write(jsonLine({ type: 'outcome', outcome }));
        else out.write(`${describeOutcome(outcome)}\n`);
      });
    }
  };

  hand(watcher.pending, true);
  try {
    if (options.once) {
      hand(await watcher.readAppended(), false);
      await queue;
    } else {
      const failed = new Promise<Error>((resolve) => watcher.on('error', resolve));
      if (fromEvents) watcher.on('triggers', (t) => hand(t, false));
      watcher.start();
      const stopped = new Promise<null>((resolve) => {
        for (const s of [options.signal, options.reload]) {
          if (s === undefined) continue;
          if (s.aborted) resolve(null);
          s.addEventListener('abort', () => resolve(null), { once: true });
        }
      });
      const error = await Promise.race([failed, stopped]);
      if (error !== null) {
        await watcher.stop();
        stopResponses();
        await queue;
        throw error;
      }
      result.interrupted = options.signal.aborted;
    }
  } finally {
    await watcher.stop();
    await queue;
    options.signal.removeEventListener('abort', stopResponses);
  }
  const s = watcher.stats();
  const summary = { type: 'summary', triggers: result.triggers, unsuccessful: result.unsuccessful, keys: s.keys, dropped_events: s.droppedEvents, dropped_values: s.droppedValues, dropped_messages: s.droppedMessages, allow_listed_events: s.allowedEvents };
  if (json) out.write(jsonLine(summary));
  else if (options.once || options.verbose > 0) {
    const dropped = s.droppedEvents + s.droppedValues + s.droppedMessages > 0 ? `; not counted for lack of room: ${s.droppedEvents} events, ${s.droppedValues} distinct values, ${s.droppedMessages} messages` : '';
    err.write(`${result.triggers} trigger${result.triggers === 1 ? '' : 's'}, ${result.unsuccessful} not contained; ${s.keys} keys in the windows${dropped}\n`);
  }
  return result;
}
