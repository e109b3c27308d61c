import { builtinActions } from '../../actions/registry.js';
import { EXIT } from '../../engine/exit-codes.js';
import { printJson } from '../render/json.js';
import { safeForTerminal } from '../../core/terminal-safe.js';

interface ParamDoc {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

type SchemaNode = Record<string, unknown>;

/** A literal as a playbook writes it: 'restart', 100, true. */
function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** The type of a parameter in playbook terms, with the allowed values of enums spelled out. */
export function describeType(node: SchemaNode): string {
  if (node.const !== undefined) return literal(node.const);
  if (Array.isArray(node.enum)) return node.enum.map(literal).join(' | ');
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (alternatives) return (alternatives as SchemaNode[]).map(describeType).join(' | ');
  if (node.type === 'array') {
    const item = describeType((node.items ?? {}) as SchemaNode);
    return `${item.includes(' | ') ? `(${item})` : item}[]`;
  }
  if (typeof node.type === 'string') return node.type;
  if (Array.isArray(node.type)) return node.type.join(' | ');
  return 'any';
}

function describeParams(schema: unknown): ParamDoc[] {
  const s = schema as { properties?: Record<string, SchemaNode>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    type: describeType(p),
    required: (s.required ?? []).includes(name),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}

export function actionsCommand(name: string | undefined, flags: { json?: boolean }): number {
  const registry = builtinActions();
  const list = [...registry.values()]
    .filter((a) => name === undefined || a.name === name || a.name.startsWith(`${name}.`))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((a) => ({ name: a.name, mutates: a.mutates, ...(a.mutates ? { reversible: a.reversible } : {}), description: a.description, params: describeParams(a.params), outputs: a.outputs ?? {} }));
  if (name !== undefined && list.length === 0) {
    process.stderr.write(`error: no action named ${safeForTerminal(name)}; 'runbook actions' lists them all\n`);
    return EXIT.usage;
  }
  if (flags.json) {
    printJson(list);
    return EXIT.ok;
  }
  for (const a of list) {
    process.stdout.write(`${a.name}  ${a.mutates ? `[mutates, ${a.reversible === true ? 'reversible' : 'irreversible'}]` : '[read-only]'}\n  ${a.description}\n`);
    for (const p of a.params) {
      process.stdout.write(`    ${p.name}${p.required ? '' : '?'}: ${p.type}${p.default !== undefined ? ` = ${Array.isArray(p.default) ? `[${p.default.map(literal).join(', ')}]` : literal(p.default)}` : ''}${p.description ? `  — ${p.description}` : ''}\n`);
    }
    const outputs = Object.entries(a.outputs);
    if (outputs.length > 0) {
      process.stdout.write('  outputs:\n');
      for (const [k, v] of outputs) process.stdout.write(`    steps.<id>.${k}  — ${v}\n`);
    }
    process.stdout.write('\n');
  }
  return EXIT.ok;
}
