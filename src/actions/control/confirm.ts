import { Type } from '@sinclair/typebox';
import { defineAction } from '../types.js';

/**
 * A confirmation gate. The engine, not this action, asks the operator: before anything after
 * this step mutates a host, the message is shown and must be confirmed (or --yes / --approve).
 */
export const confirmAction = defineAction({
  name: 'confirm',
  description: 'Confirmation gate: the operator must accept before any later step changes a host',
  params: Type.Object(
    { message: Type.String({ description: 'What the operator is asked to accept' }) },
    { additionalProperties: false },
  ),
  mutates: false,
  gate: (params) => params.message,
  outputs: { accepted: 'true when the gate was accepted' },
  async run() {
    return { changed: false, outputs: { accepted: true } };
  },
});
