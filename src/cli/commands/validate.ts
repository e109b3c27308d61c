import { builtinActions, type ActionRegistry } from '../../actions/registry.js';
import { safeForTerminal } from '../../core/terminal-safe.js';
import { formatPlaybookError, PlaybookError, type Diagnostic } from '../../playbook/diagnostics.js';
import { loadPlaybook } from '../../playbook/load.js';
import { EXIT } from '../../engine/exit-codes.js';
import { formatJson } from '../render/json.js';

export interface ValidationResult {
  file: string;
  ok: boolean;
  name?: string;
  steps?: number;
  diagnostics?: Diagnostic[];
  /** Problems found beyond those listed. */
  omitted?: number;
  error?: string;
}

/** What `runbook validate` prints, without printing it: the CLI writes it, tests read it. */
export interface ValidationOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export async function validateFiles(files: string[], registry: ActionRegistry = builtinActions()): Promise<ValidationResult[]> {
  const results: ValidationResult[] = [];
  for (const file of files) {
    try {
      const loaded = await loadPlaybook(file, registry);
      results.push({ file, ok: true, name: loaded.spec.name, steps: loaded.spec.steps.length });
    } catch (error) {
      if (error instanceof PlaybookError) results.push({ file, ok: false, diagnostics: error.diagnostics, ...(error.omitted > 0 ? { omitted: error.omitted } : {}) });
      else results.push({ file, ok: false, error: (error as Error).message });
    }
  }
  return results;
}

export function renderValidation(results: ValidationResult[], json: boolean): ValidationOutput {
  const code = results.every((r) => r.ok) ? EXIT.ok : EXIT.usage;
  if (json) return { code, stdout: formatJson({ ok: code === EXIT.ok, results }), stderr: '' };
  let stdout = '';
  let stderr = '';
  for (const r of results) {
    const file = safeForTerminal(r.file);
    if (r.ok) {
      stdout += `${file}: ok (${safeForTerminal(r.name ?? '')}, ${r.steps} step${r.steps === 1 ? '' : 's'})\n`;
    } else if (r.diagnostics) {
      const total = r.diagnostics.length + (r.omitted ?? 0);
      const lines = formatPlaybookError(new PlaybookError(r.diagnostics, r.omitted ?? 0));
      stderr += `${lines.join('\n\n')}\n${file}: ${total} problem${total === 1 ? '' : 's'}\n`;
    } else {
      stderr += `error: ${safeForTerminal(r.error ?? 'unknown error')}\n`;
    }
  }
  return { code, stdout, stderr };
}

export async function validateCommand(files: string[], flags: { json?: boolean }): Promise<number> {
  const output = renderValidation(await validateFiles(files), flags.json === true);
  process.stdout.write(output.stdout);
  process.stderr.write(output.stderr);
  return output.code;
}
