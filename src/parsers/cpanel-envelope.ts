/**
 * cPanel API answers. UAPI: `{result: {status, errors, messages, warnings, data}}`.
 * WHM API 1: `{metadata: {result, reason}, data}`. `whmapi1 uapi_cpanel` nests the UAPI
 * result under `data.uapi` (sometimes `data.uapi.result`). The JSON decides, never the exit
 * code. Pure.
 */

export interface ApiOutcome {
  ok: boolean;
  /** The text was a recognisable envelope (false: the call failed before the function ran). */
  envelope: boolean;
  errors: string[];
  messages: string[];
  warnings: string[];
  data: unknown;
  /** WHM `metadata.reason`. */
  reason?: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return [JSON.stringify(value)];
}

function isOne(value: unknown): boolean {
  return value === 1 || value === '1' || value === true;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function notAnEnvelope(text: string): ApiOutcome {
  const excerpt = text.trim().slice(0, 300);
  return {
    ok: false,
    envelope: false,
    errors: [excerpt === '' ? 'no output' : `not a cPanel API envelope: ${excerpt}`],
    messages: [],
    warnings: [],
    data: undefined,
  };
}

/** A UAPI `result` object (status/errors/messages/warnings/data). */
function fromUapiResult(result: Json): ApiOutcome {
  const ok = isOne(result['status']);
  const errors = strings(result['errors']);
  return {
    ok,
    envelope: true,
    errors: !ok && errors.length === 0 ? ['the API reported failure without an error message'] : errors,
    messages: strings(result['messages']),
    warnings: strings(result['warnings']),
    data: result['data'],
  };
}

export function parseUapiEnvelope(text: string): ApiOutcome {
  const json = parseJson(text);
  if (!isObject(json)) return notAnEnvelope(text);
  const result = json['result'];
  if (isObject(result) && 'status' in result) return fromUapiResult(result);
  // Some callers receive the bare result object.
  if ('status' in json && ('errors' in json || 'data' in json)) return fromUapiResult(json);
  return notAnEnvelope(text);
}

export function parseWhmEnvelope(text: string): ApiOutcome {
  const json = parseJson(text);
  if (!isObject(json) || !isObject(json['metadata'])) return notAnEnvelope(text);
  const metadata = json['metadata'];
  const ok = isOne(metadata['result']);
  const reason = typeof metadata['reason'] === 'string' ? metadata['reason'] : undefined;
  return {
    ok,
    envelope: true,
    errors: ok ? [] : [reason ?? 'WHM API reported failure without a reason'],
    messages: [],
    warnings: [],
    data: json['data'],
    ...(reason !== undefined ? { reason } : {}),
  };
}

/** `whmapi1 uapi_cpanel`: success needs metadata.result == 1 AND the nested UAPI status == 1. */
export function parseUapiCpanelEnvelope(text: string): ApiOutcome {
  const whm = parseWhmEnvelope(text);
  if (!whm.envelope) return whm;
  const data = whm.data;
  const uapi = isObject(data) ? data['uapi'] : undefined;
  let nested: Json | undefined;
  if (isObject(uapi)) nested = isObject(uapi['result']) && 'status' in uapi['result'] ? uapi['result'] : uapi;
  if (nested === undefined || !('status' in nested)) {
    return {
      ...whm,
      ok: false,
      errors: whm.ok ? ['WHM answered but carried no UAPI result (data.uapi missing)'] : whm.errors,
    };
  }
  const inner = fromUapiResult(nested);
  return {
    ok: whm.ok && inner.ok,
    envelope: true,
    errors: [...(whm.ok ? [] : whm.errors), ...inner.errors],
    messages: inner.messages,
    warnings: inner.warnings,
    data: inner.data,
    ...(whm.reason !== undefined ? { reason: whm.reason } : {}),
  };
}
