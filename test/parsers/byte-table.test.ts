import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteTable, PairCounts } from '../../src/parsers/byte-table.js';

describe('byte interning table', () => {
  it('gives one id per distinct byte string across growth and rehashing', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3000 }), (keys) => {
        const t = new ByteTable(1_000_000, 8);
        const ids = new Map<string, number>();
        for (const k of keys) {
          const b = Buffer.from(`<${k}>`);
          const id = t.id(b, 1, b.length - 1);
          t.counts[id]!++;
          const seen = ids.get(k);
          if (seen === undefined) ids.set(k, id);
          else expect(id).toBe(seen);
        }
        expect(t.size).toBe(ids.size);
        for (const [k, id] of ids) {
          expect(t.key(id)).toBe(k);
          expect(t.counts[id]).toBe(keys.filter((x) => x === k).length);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('refuses new keys past its cap', () => {
    const t = new ByteTable(3);
    const ids = ['a', 'b', 'c', 'd', 'a'].map((k) => t.id(Buffer.from(k), 0, 1));
    expect(ids).toEqual([0, 1, 2, -1, 0]);
  });
});

describe('pair counts', () => {
  it('counts pairs exactly across growth and returns the heaviest children per parent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(40), fc.nat(300)), { maxLength: 5000 }), fc.integer({ min: 1, max: 50 }), (pairs, limit) => {
        const pc = new PairCounts(1_000_000, 4);
        const ref = new Map<number, Map<number, number>>();
        for (const [p, c] of pairs) {
          pc.add(p, c);
          const m = ref.get(p) ?? new Map<number, number>();
          m.set(c, (m.get(c) ?? 0) + 1);
          ref.set(p, m);
        }
        const top = pc.topChildren(41, limit);
        for (let p = 0; p <= 40; p++) {
          const want = [...(ref.get(p) ?? new Map<number, number>())].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
          const got: [number, number][] = [];
          for (let k = top.starts[p]!; k < top.ends[p]!; k++) got.push([top.children[k]!, top.counts[k]!]);
          if (want.length <= limit) expect(got.sort((x, y) => y[1] - x[1] || x[0] - y[0])).toEqual(want);
          else expect(got.map((g) => g[1])).toEqual(want.slice(0, limit).map((w) => w[1]));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('drops pairs past its cap and says how many', () => {
    const pc = new PairCounts(2);
    pc.add(0, 1);
    pc.add(0, 2);
    pc.add(0, 3, 5);
    pc.add(0, 1);
    expect(pc.dropped).toBe(5);
    const top = pc.topChildren(1, 10);
    expect([...top.counts.subarray(top.starts[0]!, top.ends[0]!)].sort()).toEqual([1, 2]);
  });
});
