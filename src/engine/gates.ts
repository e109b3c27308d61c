import type { HostPlan } from './types.js';

/**
 * Where the confirmation gates of a run are: every step of a gate action and step with `confirm:`,
 * merged across hosts (one question per step for the whole fleet), plus an implicit gate before
 * the first mutation when the playbook has none there. The engine asks them all before any
 * mutation (src/engine/run.ts).
 */
export interface GateSlot {
  step: string;
  stepIndex: number;
  messages: { host: string; message: string }[];
}

/** Gates in step order; an implicit one before the first mutation when the playbook has none. */
export function collectGates(hosts: HostPlan[]): GateSlot[] {
  const slots = new Map<string, GateSlot>();
  let firstMutation = Number.POSITIVE_INFINITY;
  for (const h of hosts) {
    for (const s of h.steps) {
      if (s.gate !== undefined && s.state !== 'skipped' && s.state !== 'failed') {
        const slot = slots.get(s.spec.id) ?? { step: s.spec.id, stepIndex: s.stepIndex, messages: [] };
        slot.messages.push({ host: h.target.name, message: s.gate });
        slots.set(s.spec.id, slot);
      }
      const mutates = s.action.mutates && (s.state === 'deferred' || (s.state === 'ready' && !s.plan?.noop));
      if (mutates) firstMutation = Math.min(firstMutation, s.stepIndex);
    }
  }
  const gates = [...slots.values()].sort((a, b) => a.stepIndex - b.stepIndex);
  if (Number.isFinite(firstMutation) && !gates.some((g) => g.stepIndex <= firstMutation)) {
    const affected = hosts.filter((h) => h.steps.some((s) => s.action.mutates && (s.state === 'ready' || s.state === 'deferred')));
    gates.unshift({
      step: 'apply',
      stepIndex: firstMutation,
      messages: affected.map((h) => ({ host: h.target.name, message: `Apply the planned changes on ${h.target.name}?` })),
    });
  }
  return gates;
}

export function mutationsAfter(hosts: HostPlan[], fromIndex: number, toIndex: number): number {
  let count = 0;
  for (const h of hosts) {
    for (const s of h.steps) {
      if (s.stepIndex >= fromIndex && s.stepIndex < toIndex && s.action.mutates && (s.state === 'deferred' || (s.state === 'ready' && !s.plan?.noop))) count += 1;
    }
  }
  return count;
}

