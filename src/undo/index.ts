export { buildUndoPlan, undoPlaybook, UndoError, type UndoEntry, type UndoLeftover, type UndoPlan } from './plan.js';
export { prepareUndo, runUndo, type PreparedUndo, type UndoRunOptions } from './run.js';
