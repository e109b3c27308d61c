import type { ApiOutcome } from '../../parsers/cpanel-envelope.js';

/** cPanel's own words (curly quotes and all), joined for an operator to read. */
export function apiErrorText(outcome: ApiOutcome): string {
  const errors = outcome.errors.length > 0 ? outcome.errors : ['no error message'];
  return errors.map((e) => e.trim()).join(' / ');
}
