import { Type } from '@sinclair/typebox';
import { DURATION_PATTERN, parseDuration } from '../core/duration.js';
import { ActionError } from './types.js';

/** The `hold_for` parameter of holding actions: how long until `runbook expire` lifts the hold. */
export const HoldForParam = Type.Optional(
  Type.String({
    pattern: DURATION_PATTERN,
    description: 'Lift it again after this long unless a later run confirms it (`runbook expire` does it): 4h, 30m, 1d',
  }),
);

/** Milliseconds of a `hold_for`; refuses a zero length, which would expire as it is set. */
export function holdLength(holdFor: string | undefined): number | undefined {
  if (holdFor === undefined) return undefined;
  const ms = parseDuration(holdFor);
  if (ms === undefined || ms <= 0) throw new ActionError(`hold_for "${holdFor}" is not a length of time runbook can hold for; give one such as 4h, 30m or 1d.`);
  return ms;
}

/** The deadline (ISO 8601, UTC) of a hold set now, or undefined for a hold without one. */
export function holdDeadline(holdFor: string | undefined, now: number = Date.now()): string | undefined {
  const ms = holdLength(holdFor);
  return ms === undefined ? undefined : new Date(now + ms).toISOString();
}
