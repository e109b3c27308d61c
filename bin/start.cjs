// Loads the CLI (an ES module) once bin/runbook.cjs has checked the Node version: kept apart so
// that file has no syntax an old Node cannot parse.
'use strict';
import('../dist/cli/main.js');
