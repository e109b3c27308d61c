import type { Action } from './types.js';

/** Mutating containment actions and the queue watch. */
export const containmentActions: Action[] = [];
