// Loads the CLI (an ES module) once bin/runbook.cjs has checked the Node version: kept apart so
// that file has no syntax an old Node cannot parse.
'use strict';
import('../dist/cli/main.js').catch(function (error) {
  // Only a missing or broken build ends here; the CLI reports its own errors.
  process.stderr.write('runbook: cannot load ' + require('path').join(__dirname, '..', 'dist', 'cli', 'main.js') + ': ' + error.message + '\n(in a checkout, run npm run build)\n');
  process.exitCode = 1;
});
