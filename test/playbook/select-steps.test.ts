import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { selectSteps, splitTags, StepSelectionError } from '../../src/playbook/select-steps.js';

const registry = builtinActions();
const FILE = join(import.meta.dirname, '..', 'cli', 'fixtures', 'tagged.yml');
const tagged = parsePlaybook(FILE, readFileSync(FILE, 'utf8'), registry);
const ids = (selection: Parameters<typeof selectSteps>[1]) => selectSteps(tagged, selection).spec.steps.map((s) => s.id);

describe('--tags, --skip-tags, --start-at-step', () => {
  it('keeps every step without a selection, and returns the same playbook', () => {
    expect(selectSteps(tagged, {})).toBe(tagged);
  });

  it("--tags keeps the tagged steps and 'always' ones; 'all' keeps everything", () => {
    expect(ids({ tags: ['contain'] })).toEqual(['count', 'purge']);
    expect(ids({ tags: ['look'] })).toEqual(['count', 'listing', 'recount']);
    expect(ids({ tags: ['all'] })).toEqual(['count', 'listing', 'purge', 'recount']);
  });

  it("--skip-tags wins over --tags and over 'always' when named", () => {
    expect(ids({ skipTags: ['queue'] })).toEqual(['count', 'listing', 'recount']);
    expect(ids({ tags: ['look'], skipTags: ['always'] })).toEqual(['listing', 'recount']);
  });

  it('--start-at-step leaves out the steps before it and combines with tags', () => {
    expect(ids({ startAt: 'purge' })).toEqual(['purge', 'recount']);
    expect(ids({ startAt: 'purge', tags: ['look'] })).toEqual(['recount']);
  });

  it('a tag or step that names nothing, or a selection of nothing, is an error saying what exists', () => {
    expect(() => ids({ tags: ['contian'] })).toThrow(/--tags contian: no step of .*tagged\.yml has that tag \(tags used: look, contain, queue\)/);
    expect(() => ids({ startAt: 'nope' })).toThrow(/--start-at-step nope: no such step .*\(steps: count, listing, purge, recount\)/);
    expect(() => ids({ skipTags: ['always', 'look', 'contain'] })).toThrow(StepSelectionError);
  });

  it('never drops a step that a kept step reads', () => {
    const text = 'name: reads\nsteps:\n  - id: list\n    action: exim.queue.list\n    tags: [look]\n  - id: purge\n    action: exim.queue.purge\n    tags: [contain]\n    foreach: steps.list.senders\n    with: { sender: "${{ item.sender }}" }\n';
    const pb = parsePlaybook('reads.yml', text, registry);
    expect(() => selectSteps(pb, { tags: ['contain'] })).toThrow(/step purge reads steps\.list, which this selection leaves out/);
    expect(selectSteps(pb, { tags: ['contain', 'look'] }).spec.steps.map((s) => s.id)).toEqual(['list', 'purge']);
  });

  it('splits comma-separated and repeated values', () => {
    expect(splitTags(['a,b', ' c '])).toEqual(['a', 'b', 'c']);
  });
});
