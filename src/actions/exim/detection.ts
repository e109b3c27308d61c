import type { Action } from '../types.js';

/** Read-only Exim detection actions (queue, main log, spool, exim.detect). */
export const eximDetectionActions: Action[] = [];
