import type { Command } from 'commander';
import { builtinActions } from '../../actions/registry.js';
import { formatDiagnostic, PlaybookError, type Diagnostic } from '../../playbook/diagnostics.js';
import { loadPlaybook } from '../../playbook/load.js';
import { EXIT } from '../../engine/run.js';

export async function validateCommand(files: string[], flags: { json?: boolean }): Promise<number> {
  const registry = builtinActions();
  const results: { file: string; ok: boolean; name?: string; steps?: number; diagnostics?: Diagnostic[]; error?: string }[] = [];
  for (const file of files) {
    try {
      const loaded = await loadPlaybook(file, registry);
      results.push({ file, ok: true, name: loaded.spec.name, steps: loaded.spec.steps.length });
    } catch (error) {
      if (error instanceof PlaybookError) results.push({ file, ok: false, diagnostics: error.diagnostics });
      else results.push({ file, ok: false, error: (error as Error).message });
    }
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: results.every((r) => r.ok), results }, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.ok) process.stdout.write(`${r.file}: ok (${r.name}, ${r.steps} step${r.steps === 1 ? '' : 's'})\n`);
      else if (r.diagnostics) process.stderr.write(`${r.diagnostics.map(formatDiagnostic).join('\n\n')}\n${r.file}: ${r.diagnostics.length} problem${r.diagnostics.length === 1 ? '' : 's'}\n`);
      else process.stderr.write(`error: ${r.error}\n`);
    }
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.usage;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('Check playbooks: YAML, schema, actions, parameters and expressions (reports file:line:col)')
    .argument('<playbook...>', 'playbook files')
    .option('--json', 'machine-readable result')
    .addHelpText('after', '\nExit codes: 0 all valid · 2 a playbook has problems')
    .action(async (files: string[], flags: { json?: boolean }) => {
      process.exitCode = await validateCommand(files, flags);
    });
}
