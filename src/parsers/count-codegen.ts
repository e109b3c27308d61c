/**
 * The count registry (count-registry.ts) as source for the two compiled readers that cannot
 * import it: AssemblyScript constants for the kernel (src/parsers/wasm/counters.ts, written by
 * scripts/gen-counters.mjs) and a C header for the native target counter's driver (written into
 * its build directory by scripts/build-native-counter.mjs). Pure: text out.
 */
import { KERNEL_RELATIONS, RELATIONS, TABLES, TOTALS, type RelationSpec, type TableSpec, type TotalSpec } from './count-registry.js';

const tables: readonly TableSpec[] = TABLES;
const relations: readonly RelationSpec[] = RELATIONS;
const totals: readonly TotalSpec[] = TOTALS;

function tableIndex(name: string): number {
  const i = tables.findIndex((t) => t.name === name);
  if (i < 0) throw new Error(`count registry: no table ${name}`);
  return i;
}

function kernelRelationIndex(name: string): number {
  const i = KERNEL_RELATIONS.findIndex((r) => r.name === name);
  if (i < 0) throw new Error(`count registry: no kernel relation ${name}`);
  return i;
}

/** src/parsers/wasm/counters.ts: the kernel's numbering. */
export function assemblyScriptConstants(): string {
  const out = [
    '// Generated from src/parsers/count-registry.ts by scripts/gen-counters.mjs (run by `npm run build`): do not edit.',
    '// The kernel\'s numbering of its key tables (T_*), relations (P_*) and totals (TOT_*).',
    '',
  ];
  tables.forEach((t, i) => out.push(`export const ${t.constant}: i32 = ${i};`));
  out.push(`export const TABLE_COUNT: i32 = ${tables.length};`);
  out.push('/** Keys kept at most per table (0: the scan\'s maxKeys). */');
  out.push(`@inline export function tableMaxKeys(i: i32): u32 {`);
  for (const [i, t] of tables.entries()) if (t.maxKeys !== undefined) out.push(`  if (i == ${i}) return ${t.maxKeys};`);
  out.push('  return 0;', '}');
  KERNEL_RELATIONS.forEach((r, i) => out.push(`export const ${r.constant}: i32 = ${i};`));
  out.push(`export const RELATION_COUNT: i32 = ${KERNEL_RELATIONS.length};`);
  totals.forEach((t, i) => out.push(`export const ${t.constant}: i32 = ${i};`));
  out.push(`export const TOTAL_COUNT: i32 = ${totals.length};`, '');
  return out.join('\n');
}

/** counters.h: the registry as the C driver (src/remote/native/mainlog-count.c) walks it. */
export function cHeader(): string {
  const str = (s: string): string => JSON.stringify(s);
  const out = [
    '/* Generated from src/parsers/count-registry.ts (src/parsers/count-codegen.ts) at build: do not edit. */',
    '#ifndef COUNTERS_H',
    '#define COUNTERS_H',
    `enum { ${tables.map((t) => t.constant).join(', ')}, TABLES };`,
    `enum { ${KERNEL_RELATIONS.map((r) => r.constant).join(', ')}, KERNEL_RELATIONS };`,
    `enum { ${totals.map((t) => t.constant).join(', ')}, TOTALS };`,
    'typedef struct {',
    '  const char *name;',
    '  int ranked;   /* ranked into a list of the result */',
    '  int subjects; /* keys are subjects (a backslash may merge two) */',
    '  int of;       /* a counter of the keys of this table, or -1 */',
    '  int ranks;    /* keys of `of` that rank by this counter are kept too */',
    '} TableSpec;',
    'static const TableSpec TABLE_SPECS[TABLES] = {',
    ...tables.map((t) => `  { ${str(t.name)}, ${t.list !== undefined || t.ranks ? 1 : 0}, ${t.subjects ? 1 : 0}, ${t.of === undefined ? -1 : tableIndex(t.of)}, ${t.ranks ? 1 : 0} },`),
    '};',
    'typedef struct {',
    '  const char *name;',
    '  int parent, child;',
    '  int all_children; /* every child is sent (not ranked) */',
    '  int relation;     /* the kernel relation of the same name */',
    '  int plus;         /* a kernel relation added, or -1 */',
    '  int via;          /* its parent: the key of the same bytes in this table */',
    '} RelationSpec;',
    `#define WIRE_RELATIONS ${relations.length}`,
    'static const RelationSpec RELATION_SPECS[WIRE_RELATIONS] = {',
    ...relations.map((r) => `  { ${str(r.name)}, ${tableIndex(r.parent)}, ${tableIndex(r.child)}, ${r.into === 'extra' ? 1 : 0}, ${kernelRelationIndex(r.name)}, ${r.plus === undefined ? -1 : kernelRelationIndex(r.plus.relation)}, ${r.plus === undefined ? -1 : tableIndex(r.plus.via)} },`),
    '};',
    '/* Wire names of the totals by kernel number: of a `total` line, or of a header line (NULL when the other). */',
    `static const char *const TOTAL_NAMES[TOTALS] = { ${totals.map((t) => (t.header === undefined ? str(t.name) : 'NULL')).join(', ')} };`,
    `static const char *const TOTAL_HEADERS[TOTALS] = { ${totals.map((t) => (t.header === undefined ? 'NULL' : str(t.header))).join(', ')} };`,
    '/* Totals sent as `total` lines, in the order sent (-1 ends). */',
    `static const int TOTAL_ORDER[] = { ${sentTotals().map((t) => totals.indexOf(t)).join(', ')}, -1 };`,
    '#endif',
    '',
  ];
  return out.join('\n');
}

/** Totals sent as `total` lines, in the order the counters send them (by name, as perl's sort). */
export function sentTotals(): TotalSpec[] {
  return totals.filter((t) => t.header === undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
