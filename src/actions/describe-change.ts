import type { ChangeRecord } from './types.js';

/** A typed change in words for reports: what happened, to what, and the state before when known. */
export interface ChangeWords {
  what: string;
  /** The subject of the change (path, IP, mailbox). */
  target: unknown;
  /** Old state, when the log has it (a file's previous mode). */
  before: unknown;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function deadline(until: string | undefined): string {
  return until === undefined ? '' : ` until ${until}`;
}

/** Kept beside the change kinds so a new kind is described where it is declared. */
export function describeChange(change: ChangeRecord): ChangeWords {
  switch (change.kind) {
    case 'messages-removed':
      return {
        what: `${plural(change.count, 'message')} removed from the queue${change.quarantine !== undefined ? ` (kept in quarantine ${change.quarantine})` : ''}`,
        target: change.sender ?? (change.authId !== undefined ? `AUTH id ${change.authId}` : undefined),
        before: undefined,
      };
    case 'messages-frozen':
      return { what: `${plural(change.count, 'queued message')} frozen`, target: change.sender ?? (change.authId !== undefined ? `AUTH id ${change.authId}` : undefined), before: undefined };
    case 'messages-thawed':
      return { what: `${plural(change.count, 'queued message')} thawed`, target: change.ids.length <= 3 ? change.ids : `${change.ids.slice(0, 3).join(', ')}, …`, before: undefined };
    case 'messages-restored':
      return { what: `${plural(change.count, 'message')} put back into the queue from quarantine`, target: change.quarantine, before: undefined };
    case 'quarantine-removed':
      return { what: `quarantine copies of ${plural(change.count, 'message')} deleted`, target: change.quarantine, before: undefined };
    case 'file-mode':
      return {
        what: Number.parseInt(change.to, 8) === 0 ? 'file disabled (mode 000)' : `file mode set to ${change.to}`,
        target: change.path,
        before: change.from === '' ? undefined : `mode ${change.from}`,
      };
    case 'ip-deny':
      return { what: 'IP blocked in the firewall', target: change.ip, before: undefined };
    case 'ip-deny-removed':
      return { what: 'IP unblocked in the firewall', target: change.ip, before: undefined };
    case 'ip-temp-deny':
      return { what: `IP blocked in the firewall for ${change.ttlSeconds} s${deadline(change.until)}`, target: change.ip, before: undefined };
    case 'ip-temp-deny-removed':
      return { what: 'temporary firewall block lifted', target: change.ip, before: undefined };
    case 'password-reset':
      return { what: 'mailbox password reset', target: change.mailbox, before: undefined };
    case 'mailbox-suspension':
      return { what: `mailbox ${change.scope} ${change.suspended ? 'suspended' : 'allowed again'}${deadline(change.until)}`, target: change.mailbox, before: undefined };
    case 'setting':
      return { what: `${change.where}: ${change.key} set to ${change.to === '' ? 'unset' : change.to}`, target: change.key, before: change.from === '' ? 'unset' : change.from };
    case 'account-outgoing':
      return { what: `account's outgoing mail ${change.suspended ? 'suspended' : 'allowed again'}${deadline(change.until)}`, target: change.account, before: undefined };
    case 'services-restarted':
      return { what: 'services restarted', target: change.services, before: undefined };
  }
}
