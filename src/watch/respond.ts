/**
 * PLACEHOLDER, replaced by the responder module when the branches meet: the watcher's command
 * builds its responder through this factory. Until then no responder exists, and every
 * trigger's response fails with this error (the trigger is still reported and recorded).
 */
import type { ResponseConfig, TriggerResponder } from './types.js';

/** Where a responder may write what it does (the watcher's own output streams). */
export interface ResponderIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  json: boolean;
}

export function createResponder(_config: ResponseConfig, _io: ResponderIo): TriggerResponder {
  return {
    respond() {
      return Promise.reject(new Error('responder not available'));
    },
  };
}
