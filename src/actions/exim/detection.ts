import type { Action } from '../types.js';
import { eximDetect } from './detect.js';
import { eximMainlogScan, eximSpoolScan } from './detect-scan.js';
import { webScriptIps, webSuspectFiles } from './detect-web.js';
import { eximDiscover } from './discover.js';
import { eximQueueCount, eximQueueHeaders, eximQueueList } from './queue-read.js';

/** Read-only Exim detection actions (queue, main log, spool, exim.detect). */
export const eximDetectionActions: Action[] = [
  eximDiscover,
  eximQueueCount,
  eximQueueList,
  eximQueueHeaders,
  eximMainlogScan,
  eximSpoolScan,
  webSuspectFiles,
  webScriptIps,
  eximDetect,
] as unknown as Action[];
