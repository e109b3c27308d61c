// The count registry is the one declaration of the scanner's tables, relations, counters and
// totals: the kernel's numbering generated from it is the one compiled, and it is consistent.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemblyScriptConstants, cHeader } from '../../src/parsers/count-codegen.js';
import { COUNTER_FIELDS, KERNEL_RELATIONS, RELATIONS, TABLES, TOTALS, type TableSpec } from '../../src/parsers/count-registry.js';
import { emptyPartial } from '../../src/parsers/mainlog-scan.js';

const tables: readonly TableSpec[] = TABLES;
const names = (xs: readonly { name: string }[]): string[] => xs.map((x) => x.name);

describe('the count registry', () => {
  it('is what the kernel is compiled with (src/parsers/wasm/counters.ts is current: `npm run build` writes it)', () => {
    expect(readFileSync(new URL('../../src/parsers/wasm/counters.ts', import.meta.url), 'utf8')).toBe(assemblyScriptConstants());
  });

  it('names each table, relation and total once, and refers only to what it declares', () => {
    for (const list of [TABLES, KERNEL_RELATIONS, RELATIONS, TOTALS]) expect(new Set(names(list)).size).toBe(list.length);
    const table = new Set(names(TABLES));
    for (const r of [...KERNEL_RELATIONS, ...RELATIONS]) expect([r.parent, r.child].filter((t) => !table.has(t))).toEqual([]);
    for (const r of RELATIONS) {
      // A relation of the result reads the kernel relation of its name (and the one it adds).
      expect(names(KERNEL_RELATIONS)).toContain(r.name);
      if ('plus' in r) expect(names(KERNEL_RELATIONS)).toContain(r.plus.relation);
    }
    for (const t of tables) {
      if (t.of === undefined) continue;
      // A counter is of a table whose keys have counters, and feeds a field.
      expect(tables.find((o) => o.name === t.of)?.counters).toBeDefined();
      expect(COUNTER_FIELDS).toContain(t.field);
    }
  });

  it('feeds fields the partial has', () => {
    const partial = emptyPartial() as unknown as Record<string, unknown>;
    for (const t of TOTALS) expect(typeof partial[t.field]).toBe('number');
    for (const t of tables) {
      if (t.list !== undefined) expect(partial[t.list]).toBeInstanceOf(Map);
      if (t.counters !== undefined) expect(partial[t.counters]).toBeInstanceOf(Map);
    }
  });

  it('gives the C driver every table, relation and total', () => {
    const h = cHeader();
    for (const t of tables) expect(h).toContain(`{ "${t.name}",`);
    for (const r of RELATIONS) expect(h).toContain(`{ "${r.name}",`);
    for (const t of TOTALS) expect(h).toContain(t.constant);
  });
});
