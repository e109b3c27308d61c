import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../core/duration.js';
import type { ActionRegistry } from '../actions/registry.js';

/** Step ids and input names are CEL identifiers, so `steps.<id>` and `inputs.<name>` parse. */
export const IDENTIFIER_PATTERN = '^[a-z][a-z0-9_]*$';

export const INPUT_TYPES = ['string', 'integer', 'number', 'boolean', 'array'] as const;
export const INPUT_FORMATS = ['email', 'ip', 'duration', 'hostname', 'path'] as const;

export const InputSpec = Type.Object(
  {
    type: Type.Union(INPUT_TYPES.map((t) => Type.Literal(t)), { description: 'Value type' }),
    format: Type.Optional(Type.Union(INPUT_FORMATS.map((f) => Type.Literal(f)), { description: 'Checked format of a string input' })),
    default: Type.Optional(Type.Unknown({ description: 'Value when the input is not given' })),
    minimum: Type.Optional(Type.Number({ description: 'Smallest accepted value (integer and number inputs)' })),
    maximum: Type.Optional(Type.Number({ description: 'Largest accepted value (integer and number inputs)' })),
    required: Type.Optional(Type.Boolean({ description: 'The run refuses to start without it' })),
    description: Type.Optional(Type.String()),
    secret: Type.Optional(Type.Boolean({ description: 'Rendered as [redacted] everywhere' })),
  },
  { additionalProperties: false },
);
export type InputSpec = Static<typeof InputSpec>;

export const StepSpec = Type.Object(
  {
    id: Type.String({ pattern: IDENTIFIER_PATTERN, description: 'Outputs are registered under steps.<id>' }),
    name: Type.Optional(Type.String({ description: 'Human title shown in the plan and progress' })),
    action: Type.String({ description: "Action name, see 'runbook actions'" }),
    with: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Action parameters; strings may hold ${{ expressions }}' })),
    when: Type.Optional(Type.String({ description: 'CEL condition; the step is skipped when false' })),
    foreach: Type.Optional(Type.String({ description: 'CEL expression giving a list; the step runs once per item (`item`)' })),
    confirm: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Gate before this step (true, or the question to ask)' })),
    timeout: Type.Optional(Type.String({ pattern: DURATION_PATTERN, description: 'e.g. 30s, 5m, 1h' })),
    on_error: Type.Optional(Type.Union([Type.Literal('abort'), Type.Literal('continue')], { description: 'abort (default) stops the host; continue goes on' })),
    tags: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), { uniqueItems: true, description: "Names for --tags/--skip-tags; 'always' runs unless skipped by name" }),
    ),
  },
  { additionalProperties: false },
);
export type StepSpec = Static<typeof StepSpec>;

export const PlaybookSpec = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$' }),
    description: Type.Optional(Type.String()),
    inputs: Type.Optional(Type.Record(Type.String({ pattern: IDENTIFIER_PATTERN }), InputSpec, { additionalProperties: false })),
    steps: Type.Array(StepSpec, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PlaybookSpec = Static<typeof PlaybookSpec>;

/** A `${{ expr }}` string may stand where any typed value goes. */
const TEMPLATE_STRING = { type: 'string', pattern: '\\$\\{\\{' };

/**
 * An action's parameters are a closed set: a misspelt threshold (`min_mesages`) must be an
 * error, not a silently ignored key that changes what gets purged.
 */
export function closedParams(schema: Record<string, unknown>): Record<string, unknown> {
  return schema.type === 'object' && !('additionalProperties' in schema) ? { ...schema, additionalProperties: false } : schema;
}

/** A string parameter without constraints accepts a template as it is. */
function isPlainString(property: Record<string, unknown>): boolean {
  return property.type === 'string' && !('pattern' in property) && !('format' in property) && !('enum' in property) && !('const' in property);
}

/**
 * Loosens an action's parameter schema so a `${{ }}` template may stand for any typed or
 * constrained value (it is checked again once resolved). Used by the loader and for editors.
 */
export function allowTemplates(input: Record<string, unknown>): Record<string, unknown> {
  const schema = closedParams(input);
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties) return schema;
  const loosened: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) {
    loosened[key] = isPlainString(property) ? property : { anyOf: [property, TEMPLATE_STRING] };
  }
  return { ...schema, properties: loosened };
}

function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/**
 * The editor-facing JSON Schema (schemas/playbook.schema.json): the structural playbook schema
 * plus, per action, the parameters `with` accepts. Generated from the definitions the loader
 * uses; a test fails when the checked-in file drifts.
 */
export function buildPlaybookJsonSchema(registry: ActionRegistry): Record<string, unknown> {
  const root = plain(PlaybookSpec);
  const step = plain(StepSpec);
  const actionNames = [...registry.keys()].sort();
  (step.properties as Record<string, unknown>).action = {
    type: 'string',
    description: "Action name, see 'runbook actions'",
    enum: actionNames,
  };
  step.allOf = actionNames.map((name) => {
    const action = registry.get(name)!;
    return {
      if: { properties: { action: { const: name } }, required: ['action'] },
      then: { properties: { with: { description: action.description, ...allowTemplates(plain(action.params)) } } },
    };
  });
  const properties = root.properties as Record<string, Record<string, unknown>>;
  properties.steps = { ...properties.steps, items: step };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://runbook.invalid/schemas/playbook.schema.json',
    title: 'runbook playbook',
    ...root,
  };
}
