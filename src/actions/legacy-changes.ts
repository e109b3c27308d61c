/**
 * The changes of a step as logs written before actions recorded typed changes describe them:
 * read from the action names, parameters and outputs of those versions. Only old logs need
 * this; a step of this version carries its `changes` and never comes here.
 */
import type { ChangeRecord } from './types.js';

/** What an old `step.finish` (and its `step.start`) say about a changed step. */
export interface LegacyStep {
  action: string;
  params: Record<string, unknown>;
  outputs: Record<string, unknown>;
  item: unknown;
  undo: readonly { action: string; params: Record<string, unknown> }[];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function undoParam(step: LegacyStep, action: string, name: string): unknown {
  return step.undo.find((u) => u.action === action)?.params[name];
}

/** The typed changes an old log implies, or undefined when it says nothing recognisable. */
export function legacyChanges(step: LegacyStep): ChangeRecord[] | undefined {
  const { action, params, outputs, item } = step;
  if (action === 'exim.queue.purge' || typeof outputs.removed === 'number') {
    const ids = Array.isArray(outputs.removed_ids) ? outputs.removed_ids : Array.isArray(outputs.ids) ? outputs.ids : [];
    const count = typeof outputs.removed === 'number' ? outputs.removed : ids.length;
    const sender = text(params.sender);
    return [{ kind: 'messages-removed', count, ids: ids.map(String), ...(sender !== undefined ? { sender } : {}) }];
  }
  if (action === 'file.disable') {
    const path = text(params.path ?? undoParam(step, 'file.restore_mode', 'path') ?? item) ?? '';
    const from = text(undoParam(step, 'file.restore_mode', 'mode') ?? outputs.old_mode ?? outputs.previousMode ?? outputs.oldMode) ?? '';
    return [{ kind: 'file-mode', path, from, to: '0000' }];
  }
  if (action === 'csf.deny' || (action.startsWith('firewall.') && action.endsWith('deny'))) {
    const ip = text(params.ip ?? undoParam(step, 'csf.remove_deny', 'ip') ?? item) ?? '';
    const comment = text(params.comment);
    return [{ kind: 'ip-deny', ip, ...(comment !== undefined ? { comment } : {}) }];
  }
  if (action.includes('reset_password') || action.includes('passwd')) {
    return [{ kind: 'password-reset', mailbox: text(params.email ?? params.user ?? item) ?? '' }];
  }
  return undefined;
}
