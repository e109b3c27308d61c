/**
 * The contract between the watcher (which follows logs and trips rules) and the responder
 * (which contains what tripped, unattended, and asks a human for the rest). The watcher never
 * runs a playbook itself; the responder never reads a log.
 */

/** What a rule counts per key. */
export type WatchKeyKind = 'sender' | 'auth_id' | 'account' | 'directory' | 'client_ip';

/** One rule tripping on one key. */
export interface Trigger {
  /** Stable across restarts and rotation: rule, key and the window it tripped in. */
  id: string;
  /** The rule's name from the config: `compromised-mailbox`, `spamming-script`, `credential-stuffing`. */
  rule: string;
  key: { kind: WatchKeyKind; value: string };
  /** The measure that crossed its threshold. */
  observed: { metric: string; value: number; threshold: number; windowSeconds: number };
  /** Log time of the first event counted in the window, ISO 8601. */
  firstSeen: string;
  /** Log time of the line that tripped the rule, ISO 8601. */
  trippedAt: string;
  /** A few of the lines that tripped it, already made terminal-safe. */
  evidence: string[];
  /**
   * The client addresses that sent as the key within the window, classified; only attackers'
   * are in `inputs.ips`. Absent for directory and address keys.
   */
  addresses?: TriggerAddress[];
  /**
   * Inputs for the response playbooks (`sender`, `auth_id`, `account`, `directory`; `ip` for
   * an address key; `ips`, comma-separated, the attackers' addresses behind a sender, login or account).
   */
  inputs: Record<string, string>;
}

export interface TriggerAddress {
  ip: string;
  cls: 'attacker' | 'owner' | 'server' | 'private' | 'proxy' | 'allowed';
  reason: string;
  /** Messages it sent as the key while remembered. */
  messages: number;
}

/** What the watcher's config says to do when a rule trips. */
export interface ResponseConfig {
  /** Playbook run unattended: only its reversible steps may run. */
  containPlaybook: string;
  /** Playbook whose dry-run plan hash the notification offers to approve. */
  finishPlaybook: string;
  /** How long a hold or a temporary deny lasts unless a human confirms it ("4h"). */
  holdFor: string;
  /** Where the runs' audit logs go. */
  auditDir: string;
  /** Notification targets in `runbook audit attach` form (`webhook:URL`, `pagerduty:KEY`, `slack:URL`). */
  notify: string[];
  /** The host the playbooks run on: `local` on the server itself. */
  host: string;
  /**
   * An inventory naming `host` (`runbook apply -i`), for a server whose tools or layout are not
   * cPanel's defaults; the approve command carries it too.
   */
  inventory?: string;
}

export interface ResponseOutcome {
  trigger: string;
  status: 'contained' | 'refused' | 'failed';
  /** The unattended run's audit log. */
  auditLog?: string;
  /** The command that would finish the incident, with its plan hash. */
  approveCommand?: string;
  /** Targets the notification reached, and failures by target. */
  notified: string[];
  errors: string[];
}

/** Contains a trigger. Implementations record everything they do in an audit log. */
export interface TriggerResponder {
  respond(trigger: Trigger, signal: AbortSignal): Promise<ResponseOutcome>;
}
