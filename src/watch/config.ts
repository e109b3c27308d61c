/**
 * `runbook watch --config FILE`: which logs to follow, where the state lives, the rules and
 * what to do when one trips. YAML, checked against a schema; every problem is reported at
 * file:line:col the way playbook problems are (the same YAML parser and error helpers).
 * Relative paths start at the config file's directory. The shipped sample is
 * packaging/watch.example.yml.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { FileReadError } from '../core/read-error.js';
import { emptyAllowList, loadAllowList, mergeAllowLists, parseAllowList } from '../investigate/allow-list.js';
import type { AllowList } from '../investigate/verdict.js';
import { parseWindow } from '../parsers/log-time.js';
import { PlaybookError } from '../playbook/diagnostics.js';
import { playbookError } from '../playbook/load.js';
import { MAX_PLAYBOOK_BYTES } from '../playbook/limits.js';
import { SourceMap, type PathProblem } from '../playbook/source-map.js';
import { SourceText } from '../playbook/source-text.js';
import { parseYaml } from '../playbook/yaml-syntax.js';
import { checkRule, SHIPPED_RULES, type RuleSpec } from './rules.js';
import { METRICS } from './signals.js';
import type { ResponseConfig, WatchKeyKind } from './types.js';

const KEY_KINDS: WatchKeyKind[] = ['sender', 'auth_id', 'account', 'directory', 'client_ip'];
const DURATION = '^(?:0|(?:\\d+[smhdw])+)$';

const LimitSchema = Type.Object(
  {
    metric: Type.Union(METRICS.map((m) => Type.Literal(m))),
    threshold: Type.Integer({ minimum: 1 }),
    window: Type.String({ pattern: DURATION }),
  },
  { additionalProperties: false },
);

const RuleSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    enabled: Type.Optional(Type.Boolean()),
    key: Type.Union(KEY_KINDS.map((k) => Type.Literal(k))),
    limits: Type.Array(LimitSchema, { minItems: 1 }),
    overrides: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Literal('off'), Type.Record(Type.String(), Type.Integer({ minimum: 1 }))]))),
  },
  { additionalProperties: false },
);

export const WatchConfigSchema = Type.Object(
  {
    logs: Type.Object({ mainlog: Type.String({ minLength: 1 }), maillog: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
    state: Type.String({ minLength: 1 }),
    start_at: Type.Optional(Type.Union([Type.Literal('end'), Type.Literal('beginning')])),
    save_every: Type.Optional(Type.Union([Type.String({ pattern: DURATION }), Type.Literal(0)])),
    rescan_every: Type.Optional(Type.Union([Type.String({ pattern: DURATION }), Type.Literal(0)])),
    allow_list: Type.Optional(Type.String({ minLength: 1 })),
    allow: Type.Optional(Type.Array(Type.String())),
    memory: Type.Optional(
      Type.Object(
        {
          max_keys: Type.Optional(Type.Integer({ minimum: 1 })),
          max_distinct: Type.Optional(Type.Integer({ minimum: 1 })),
          remember_messages: Type.Optional(Type.String({ pattern: DURATION })),
          max_messages: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    rules: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }), RuleSchema)),
    response: Type.Object(
      {
        contain_playbook: Type.String({ minLength: 1 }),
        finish_playbook: Type.String({ minLength: 1 }),
        hold_for: Type.String({ pattern: DURATION }),
        audit_dir: Type.String({ minLength: 1 }),
        notify: Type.Optional(Type.Array(Type.String({ pattern: '^(webhook|pagerduty|slack):.+' }))),
        host: Type.Optional(Type.String({ minLength: 1 })),
        inventory: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
type RawConfig = Static<typeof WatchConfigSchema>;

export interface WatchConfig {
  file: string;
  mainlog: string;
  maillog?: string;
  statePath: string;
  startAt: 'end' | 'beginning';
  saveEverySeconds: number;
  rescanSeconds: number;
  allow: AllowList;
  rules: RuleSpec[];
  maxKeys: number;
  maxDistinct: number;
  joinSeconds: number;
  maxMessages: number;
  response: ResponseConfig;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(WatchConfigSchema);

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function schemaProblems(data: unknown): PathProblem[] {
  if (validate(data)) return [];
  const seen = new Set<string>();
  const out: PathProblem[] = [];
  for (const e of validate.errors ?? []) {
    // Branches of a union each complain; the first says enough at that place.
    if (e.keyword === 'anyOf') continue;
    const path = pointerToPath(e.instancePath);
    const where = path.length === 0 ? 'the config' : path.join('.');
    const params = e.params as Record<string, unknown>;
    let problem: PathProblem;
    if (e.keyword === 'additionalProperties') problem = { path: [...path, String(params.additionalProperty)], key: true, message: `unknown field '${String(params.additionalProperty)}' in ${where}` };
    else if (e.keyword === 'required') problem = { path, message: `${where} is missing required field '${String(params.missingProperty)}'` };
    else if (e.keyword === 'const') problem = { path, message: `${where} must be one of the allowed values (see packaging/watch.example.yml)` };
    else if (e.keyword === 'pattern' && /window|every|hold_for|remember/.test(where)) problem = { path, message: `${where} must be a duration such as 90s, 2m, 1h or 1h30m` };
    else if (e.keyword === 'pattern' && path[1] === 'notify') problem = { path, message: `${where} must be webhook:URL, pagerduty:ROUTING_KEY or slack:URL (as for runbook audit attach)` };
    else problem = { path, message: `${where} ${e.message ?? 'is invalid'}` };
    const id = `${problem.path.join('.')}|${problem.message}`;
    if (seen.has(e.instancePath) && e.keyword === 'const') continue;
    seen.add(e.instancePath);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(problem);
    }
  }
  return out;
}

const seconds = (text: string | 0 | undefined, fallback: number): number => (text === undefined ? fallback : text === 0 || text === '0' ? 0 : parseWindow(text)!);

/** Parses and checks a config's text; paths in it are resolved against `baseDir`. */
export function parseWatchConfig(file: string, text: string, baseDir = dirname(file)): { config: WatchConfig; allowFile?: string } {
  const source = new SourceText(text);
  const { doc, problems, fatal } = parseYaml(source);
  if (fatal) throw playbookError(file, source, problems);
  const data = doc.toJS({ maxAliasCount: -1 }) as unknown;
  const map = new SourceMap(source, doc);
  const pathProblems = schemaProblems(data);
  if (pathProblems.length === 0) {
    const raw = data as RawConfig;
    for (const [name, rule] of Object.entries(raw.rules ?? {})) {
      for (const p of checkRule({ name, ...rule })) pathProblems.push({ path: ['rules', name, ...p.path], message: p.message, ...(p.path[0] === 'overrides' ? { key: true } : {}) });
    }
    (raw.allow ?? []).forEach((entry, i) => {
      try {
        parseAllowList([entry]);
      } catch (error) {
        pathProblems.push({ path: ['allow', i], message: (error as Error).message.replace(/^allow-list:1: /, '') });
      }
    });
  }
  for (const p of pathProblems) problems.push(map.locate(p));
  if (problems.length > 0) throw playbookError(file, source, problems);
  const raw = data as RawConfig;
  const at = (p: string): string => resolve(baseDir, p);
  const rules = raw.rules === undefined
    ? SHIPPED_RULES
    : Object.entries(raw.rules).filter(([, r]) => r.enabled !== false).map(([name, r]): RuleSpec => ({
      name,
      key: r.key,
      limits: r.limits,
      ...(r.description !== undefined ? { description: r.description } : {}),
      ...(r.overrides !== undefined ? { overrides: r.overrides } : {}),
    }));
  const config: WatchConfig = {
    file,
    mainlog: at(raw.logs.mainlog),
    ...(raw.logs.maillog !== undefined ? { maillog: at(raw.logs.maillog) } : {}),
    statePath: at(raw.state),
    startAt: raw.start_at ?? 'end',
    saveEverySeconds: seconds(raw.save_every, 10),
    rescanSeconds: seconds(raw.rescan_every, 30),
    allow: raw.allow === undefined ? emptyAllowList() : parseAllowList(raw.allow, 'allow'),
    rules,
    maxKeys: raw.memory?.max_keys ?? 200_000,
    maxDistinct: raw.memory?.max_distinct ?? 5_000,
    joinSeconds: seconds(raw.memory?.remember_messages, 2 * 3600),
    maxMessages: raw.memory?.max_messages ?? 500_000,
    response: {
      containPlaybook: at(raw.response.contain_playbook),
      finishPlaybook: at(raw.response.finish_playbook),
      holdFor: raw.response.hold_for,
      auditDir: at(raw.response.audit_dir),
      notify: raw.response.notify ?? [],
      host: raw.response.host ?? 'local',
      ...(raw.response.inventory !== undefined ? { inventory: at(raw.response.inventory) } : {}),
    },
  };
  return raw.allow_list === undefined ? { config } : { config, allowFile: at(raw.allow_list) };
}

/** Reads, checks and completes a config (the allow-list file it names is read too). */
export async function loadWatchConfig(file: string): Promise<WatchConfig> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_PLAYBOOK_BYTES) throw new PlaybookError([{ file, line: 1, col: 1, length: 1, message: `the file is ${size} bytes; a watcher config is a few KB: is this the right file?`, lineText: '' }]);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof PlaybookError) throw error;
    throw new FileReadError('watch config', file, error);
  }
  const { config, allowFile } = parseWatchConfig(file, text);
  if (allowFile !== undefined) {
    try {
      config.allow = mergeAllowLists(await loadAllowList(allowFile), config.allow);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== undefined) throw new FileReadError('allow-list', allowFile, error);
      throw error;
    }
  }
  return config;
}
