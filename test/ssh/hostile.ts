import fc from 'fast-check';

/** Strings a spammer might put in a subject or a path. */
export const hostileWord = fc.oneof(
  fc.constantFrom(
    '',
    "'",
    "''",
    "'\\''",
    '"',
    '$(id)',
    '`id`',
    '${HOME}',
    '$HOME',
    '*',
    '?',
    '[a-z]*',
    '~',
    '~root',
    '-n',
    '--',
    '-e',
    'a\nb',
    '\r\n',
    ' leading and trailing ',
    '\t',
    ';rm -rf /',
    '| cat',
    '&& true',
    '> /tmp/x',
    '\\',
    '\\n',
    '%s%n%x',
    'Ünïcødé ✉ 🚀',
    '“curly”',
    '!event',
    '#comment',
    '\u0007\u001b[31m',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')),
  fc.string({ unit: fc.constantFrom("'", '"', '\\', '$', '`', ' ', '\n', '*', '(', ')', 'a', '-'), maxLength: 20 }),
);

export function splitNul(buffer: Buffer): string[] {
  const text = buffer.toString('utf8');
  const parts = text.split('\0');
  parts.pop();
  return parts;
}

