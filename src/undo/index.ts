export { buildUndoPlan, undoPlaybook, UndoError, type UndoEntry, type UndoLeftover, type UndoPlan } from './plan.js';
export { prepareUndo, runUndo, type PreparedUndo, type UndoRunOptions } from './run.js';
export { deadlineGatekeeper, expireHolds, expiryPlaybook, findDueHolds, runExpiry, scanAuditDir, type DueHold, type ExpireOptions, type ExpireResult, type ExpiryScan } from './expire.js';
