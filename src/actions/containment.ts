import { suspendAccountOutgoing, unsuspendAccountOutgoing } from './cpanel/account-outgoing.js';
import { resetPassword } from './cpanel/reset-password.js';
import { suspendLogin, suspendOutgoing, unsuspendLogin, unsuspendOutgoing } from './cpanel/suspend.js';
import { queueFreeze, queueThaw } from './exim/freeze.js';
import { queuePurge, queueQuarantine } from './exim/purge.js';
import { queueRestore } from './exim/quarantine.js';
import { quarantinePrune } from './exim/quarantine-prune.js';
import { queueWatch } from './exim/watch.js';
import { fileDisable, fileRestoreMode } from './files/disable.js';
import { csfDeny, csfRemoveDeny } from './firewall/csf-deny.js';
import { csfRemoveTempDeny, csfTempDeny } from './firewall/csf-temp-deny.js';
import { serviceRestart } from './service/restart.js';
import type { Action } from './types.js';

/** Mutating containment actions (and their undo actions) and the queue watch. */
export const containmentActions: Action[] = [
  resetPassword,
  suspendOutgoing,
  unsuspendOutgoing,
  suspendLogin,
  unsuspendLogin,
  suspendAccountOutgoing,
  unsuspendAccountOutgoing,
  serviceRestart,
  fileDisable,
  fileRestoreMode,
  queueFreeze,
  queueThaw,
  queuePurge,
  queueQuarantine,
  queueRestore,
  quarantinePrune,
  csfDeny,
  csfRemoveDeny,
  csfTempDeny,
  csfRemoveTempDeny,
  queueWatch,
] as unknown as Action[];
