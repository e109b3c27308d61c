import { formatPlaybookError, PlaybookError } from '../playbook/diagnostics.js';
import { scrubSecrets } from '../core/secret.js';
import { safeText } from '../core/text.js';
import { EXIT } from '../engine/exit-codes.js';
import { printJson } from './render/json.js';
import { FileReadError, whyUnreadable } from '../core/read-error.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Errors recognised by name, not by class: their modules (inputs and inventories with YAML,
 * SSH targets, the audit writer with its logger) are loaded only by the commands that use them,
 * and every command reports errors through here.
 */
function named(error: unknown, ...names: string[]): error is Error {
  return error instanceof Error && names.includes(error.name);
}

/** Prints an error the operator can act on and returns the exit code for it. */
export function reportError(error: unknown, json: boolean): number {
  let code: number = EXIT.failed;
  let lines: string[];
  let kind = 'error';
  if (error instanceof PlaybookError) {
    code = EXIT.usage;
    kind = 'playbook';
    lines = formatPlaybookError(error);
  } else if (named(error, 'InputError') && Array.isArray((error as Error & { problems?: unknown }).problems)) {
    code = EXIT.usage;
    kind = 'inputs';
    lines = (error as Error & { problems: unknown[] }).problems.map((p) => `error: ${String(p)}`);
  } else if (error instanceof UsageError || error instanceof FileReadError || named(error, 'TargetError', 'InventoryError', 'SigningKeyError')) {
    code = EXIT.usage;
    kind = 'usage';
    lines = [`error: ${error.message}`];
  } else if (named(error, 'AuditWriteError')) {
    code = EXIT.audit;
    kind = 'audit';
    lines = [`error: ${error.message}`];
  } else if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || (error as NodeJS.ErrnoException | undefined)?.code === 'EISDIR') {
    const e = error as NodeJS.ErrnoException;
    code = EXIT.usage;
    kind = 'usage';
    lines = [`error: cannot read ${e.path ?? 'a file'}: ${whyUnreadable(e)}`];
  } else {
    lines = [`error: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (json) {
    const payload: Record<string, unknown> = { ok: false, error: { kind, message: scrubSecrets(lines.join('\n')) } };
    if (error instanceof PlaybookError) Object.assign(payload.error as object, { diagnostics: error.diagnostics, ...(error.omitted > 0 ? { omitted: error.omitted } : {}) });
    printJson(payload);
  } else {
    process.stderr.write(`${safeText(scrubSecrets(lines.join('\n')))}\n`);
  }
  return code;
}
