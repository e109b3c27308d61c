/**
 * Actions own their semantics: the engine, undo, reports, CLI, fleet and investigation code
 * read what actions declare and never name one. This scans every module outside src/actions/
 * for any registered action name in its string literals, template text, regular expressions
 * and comments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinActions } from '../../src/actions/registry.js';

const ROOT = join(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/**
 * Where the same word names something else. CSF's own deny list is a file called csf.deny,
 * which the action is named after: its parser and the host layouts name the file. A playbook
 * step's `confirm:` key shares its word with the gate action; the playbook checks name the key.
 */
const SAME_WORD_NOT_THE_ACTION: Record<string, string[]> = {
  'csf.deny': ['src/parsers/csf-lists.ts', 'src/parsers/csf-output.ts', 'src/hosts/demo.ts', 'src/hosts/types.ts'],
  confirm: ['src/playbook/checks.ts'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(SRC, 'actions') ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

/**
 * The texts of a module a name could hide in: string literals, template text, regular
 * expressions and comments. A small lexer: enough of TypeScript to tell code from text.
 */
function textsOf(source: string): string[] {
  const texts: string[] = [];
  // One entry per open `${`: the brace depth at which that substitution closes.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  // The last significant token, to tell a regex from a division.
  let last = '';
  const readTemplate = (from: number): number => {
    let j = from;
    while (j < source.length) {
      if (source[j] === '\\') j += 2;
      else if (source[j] === '`') return j + 1;
      else if (source[j] === '$' && source[j + 1] === '{') {
        templates.push(depth);
        depth += 1;
        return j + 2;
      } else j += 1;
    }
    return j;
  };
  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      texts.push(source.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      texts.push(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      texts.push(source.slice(i, j + 1));
      i = j + 1;
      last = 'literal';
    } else if (c === '`') {
      const stop = readTemplate(i + 1);
      texts.push(source.slice(i, stop));
      i = stop;
      last = 'literal';
    } else if (c === '}' && templates.length > 0 && templates.at(-1) === depth - 1) {
      templates.pop();
      depth -= 1;
      const stop = readTemplate(i + 1);
      texts.push(source.slice(i, stop));
      i = stop;
      last = 'literal';
    } else if (c === '/' && (last === '' || /^[^\w)\]}]$/.test(last) || REGEX_AFTER_WORD.has(last))) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n' && (inClass || source[j] !== '/')) {
        if (source[j] === '\\') j += 1;
        else if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j += 1;
      }
      texts.push(source.slice(i, j + 1));
      i = j + 1;
      last = 'literal';
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (/[\w$]/.test(c)) {
      let j = i;
      while (j < source.length && /[\w$]/.test(source[j]!)) j += 1;
      last = source.slice(i, j);
      i = j;
    } else {
      if (c === '{') depth += 1;
      if (c === '}') depth -= 1;
      last = c;
      i += 1;
    }
  }
  return texts;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A dotted name is unmistakable wherever it stands as a whole name; a plain word ("confirm")
 * counts only where it is quoted as a name, so "confirm the close" in prose is not a mention.
 */
function mentionPattern(name: string): RegExp {
  const n = escape(name);
  return name.includes('.') ? new RegExp(`(?<![\\w.-])${n}(?![\\w-]|\\.\\w)`) : new RegExp(`['"\`]${n}['"\`]|action:\\s*${n}\\b`);
}

function mentions(source: string, names: readonly string[]): string[] {
  const found: string[] = [];
  for (const text of textsOf(source)) {
    for (const name of names) if (mentionPattern(name).test(text)) found.push(`${name} in ${JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text)}`);
  }
  return found;
}

describe('action names outside src/actions', () => {
  const names = [...builtinActions().keys()];

  it('the scan finds names in literals, templates, regexes and comments, and not in prose or code', () => {
    const sample = [
      `const a = 'exim.queue.purge';`,
      'const b = `run ${x} cpanel.email.reset_password`;',
      '// counts for csf.deny steps',
      '/** a `confirm` step */',
      `if (step.name === "confirm") {}`,
      'const r = /file\\.disable|file.disable$/;',
      '// users confirm the close; step.confirm is a playbook key; csf.deny_extra is not a name',
      'const obj = { confirm: true }; obj.confirm;',
    ].join('\n');
    expect(mentions(sample, names).map((m) => m.split(' in ')[0])).toEqual([
      'exim.queue.purge',
      'cpanel.email.reset_password',
      'csf.deny',
      'confirm',
      'confirm',
      'file.disable',
    ]);
  });

  it('no module outside src/actions names a registered action', () => {
    expect(names).toEqual(expect.arrayContaining(['confirm', 'exim.queue.purge', 'cpanel.email.reset_password', 'csf.deny', 'file.disable', 'service.restart']));
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const path of files) {
      const rel = relative(ROOT, path).split('\\').join('/');
      const allowed = names.filter((n) => !(SAME_WORD_NOT_THE_ACTION[n] ?? []).includes(rel));
      for (const m of mentions(readFileSync(path, 'utf8'), allowed)) problems.push(`${rel}: ${m}`);
    }
    expect(problems).toEqual([]);
  });
});
