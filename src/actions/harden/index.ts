import type { Action } from '../types.js';
import { hardenCheck } from './check.js';
import { csfConfSet } from './csf-conf.js';
import { tweakSettingSet } from './tweaksetting.js';

/** Server hardening: the read-only check and the two reversible setting changes it proposes. */
export const hardenActions: Action[] = [hardenCheck, tweakSettingSet, csfConfSet] as unknown as Action[];
