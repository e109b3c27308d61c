#!/usr/bin/env node
// Detection benchmark: runs `runbook investigate --json` (dist/) on every scenario of the
// corpus (fixtures/scenarios) and scores the verdict against the scenario's truth.json:
// sources found and missed, legitimate targets (addresses that would be blocked, senders and
// logins whose mail would be purged, scripts that would be disabled, outside the truth).
//
//   node bench/detection/run.mjs [--corpus DIR] [--blind | --blind3] [--seed N] [--only a,b] [--strict]
//                                [--min-recall R] [--max-legit N] [--json FILE]
//
// Without --corpus the corpus is generated from the seed into a temporary directory (removed
// afterwards): fixtures/scenarios, or with --blind the independently built
// fixtures/scenarios-blind (its own seed unless --seed is given), or with --blind3 the third
// corpus, fixtures/scenarios-blind3. --strict exits 1 when recall of sources is below --min-recall (default 1) or
// there are more than --max-legit legitimate targets in total (default 0).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SEED as BLIND_SEED, generateBlindCorpus } from '../../fixtures/scenarios-blind/generate.mjs';
import { DEFAULT_SEED as BLIND3_SEED, generateBlind3Corpus } from '../../fixtures/scenarios-blind3/generate.mjs';
import { DEFAULT_SEED, generateCorpus } from '../../fixtures/scenarios/generate.mjs';
import { score } from './score.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/detection/run.mjs [--corpus DIR] [--blind | --blind3] [--seed N] [--only a,b] [--strict] [--min-recall R] [--max-legit N] [--json FILE]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { corpus: null, blind: false, blind3: false, seed: null, only: null, strict: false, minRecall: 1, maxLegit: 0, json: join(ROOT, 'bench/out/detection.json') };
  const a = [...argv];
  while (a.length > 0) {
    const k = a.shift();
    const val = () => {
      if (a.length === 0) usage(`${k} needs a value`);
      return a.shift();
    };
    if (k === '--corpus') o.corpus = resolve(val());
    else if (k === '--blind') o.blind = true;
    else if (k === '--blind3') o.blind3 = true;
    else if (k === '--seed') o.seed = Number(val());
    else if (k === '--only') o.only = val().split(',').filter(Boolean);
    else if (k === '--strict') o.strict = true;
    else if (k === '--min-recall') o.minRecall = Number(val());
    else if (k === '--max-legit') o.maxLegit = Number(val());
    else if (k === '--json') o.json = resolve(val());
    else if (k === '--help' || k === '-h') usage('Scores runbook investigate against the scenario corpus.');
    else usage(`unknown argument ${k}`);
  }
  if (o.blind && o.blind3) usage('--blind and --blind3 are two corpora: give one');
  o.seed ??= o.blind3 ? BLIND3_SEED : o.blind ? BLIND_SEED : DEFAULT_SEED;
  if (!Number.isInteger(o.seed)) usage('--seed takes an integer');
  if (!(o.minRecall >= 0 && o.minRecall <= 1)) usage('--min-recall takes a number from 0 to 1');
  if (!Number.isInteger(o.maxLegit) || o.maxLegit < 0) usage('--max-legit takes a whole number');
  return o;
}

/** Which optional evidence flags this build of investigate knows (the maillog may come later). */
function supportedFlags() {
  const r = spawnSync(process.execPath, [CLI, 'investigate', '--help'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runbook investigate --help failed (build first: npm run build): ${r.stderr}`);
  return { maillog: /--maillog\b/.test(r.stdout), domlogs: /--domlogs\b/.test(r.stdout), webmailLog: /--webmail-log\b/.test(r.stdout) };
}

function loadCorpus(dir, only) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'truth.json')))
    .map((e) => ({ name: e.name, dir: join(dir, e.name), truth: JSON.parse(readFileSync(join(dir, e.name, 'truth.json'), 'utf8')) }))
    .filter((s) => only === null || only.includes(s.name))
    .sort((a, b) => a.truth.class - b.truth.class || (a.name < b.name ? -1 : 1));
}

function investigate(s, flags) {
  const f = s.truth.files;
  const argv = [CLI, 'investigate', '--mainlog', join(s.dir, f.mainlog)];
  if (f.spool) argv.push('--spool', join(s.dir, f.spool));
  if (f.domlogs && flags.domlogs) argv.push('--domlogs', join(s.dir, f.domlogs));
  if (f.maillog && flags.maillog) argv.push('--maillog', join(s.dir, f.maillog));
  if (Array.isArray(f.webmail_log) && flags.webmailLog) for (const w of f.webmail_log) argv.push('--webmail-log', join(s.dir, w));
  argv.push(...s.truth.args, '--json', '--no-color');
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1' } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let doc = null;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    // reported below with the exit status and stderr
  }
  const verdict = doc?.verdict ?? doc?.hosts?.[0]?.verdict ?? null;
  return { argv: argv.slice(1), status: r.status, stderr: r.stderr.trim(), verdict, seconds };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) usage('dist/cli/main.js is missing: run npm run build first');
  const flags = supportedFlags();
  let corpusDir = o.corpus;
  let temp = null;
  if (corpusDir === null) {
    temp = mkdtempSync(join(tmpdir(), 'runbook-detection-'));
    corpusDir = temp;
    process.stderr.write(`generating the ${o.blind3 ? 'third blind ' : o.blind ? 'blind ' : ''}corpus (seed ${o.seed}) in ${temp} ...\n`);
    (o.blind3 ? generateBlind3Corpus : o.blind ? generateBlindCorpus : generateCorpus)(corpusDir, { seed: o.seed, only: o.only });
  }
  try {
    const scenarios = loadCorpus(corpusDir, o.only);
    if (scenarios.length === 0) usage(`no scenario (a directory with truth.json) in ${corpusDir}`);
    const rows = [];
    let errors = 0;
    for (const s of scenarios) {
      const run = investigate(s, flags);
      if (run.verdict === null) {
        errors++;
        rows.push({ name: s.name, class: s.truth.class, error: `exit ${run.status}: ${run.stderr.split('\n').slice(-3).join(' | ')}` });
        process.stdout.write(`${s.name} (class ${s.truth.class}): NO VERDICT, exit ${run.status}\n  ${run.stderr.split('\n').slice(-3).join('\n  ')}\n`);
        continue;
      }
      const sc = score(s.truth, run.verdict);
      rows.push({ name: s.name, class: s.truth.class, seconds: run.seconds, exit: run.status, kind: run.verdict.kind, summary: run.verdict.summary, ...sc });
      const src = sc.sources.total === 0 ? 'no sources (clean)' : `sources ${sc.sources.found.length}/${sc.sources.total}`;
      const att = sc.attackers.total === 0 ? '' : `, attacker addresses blocked ${sc.attackers.blocked}/${sc.attackers.total}`;
      process.stdout.write(`${s.name} (class ${s.truth.class}): ${src}${att}, legitimate targets ${sc.legit_targets.length}  [${run.seconds.toFixed(1)} s]\n`);
      if (sc.sources.missed.length > 0) process.stdout.write(`  missed: ${sc.sources.missed.join(', ')}\n`);
      if (sc.sources.kind_mismatch.length > 0) process.stdout.write(`  wrong kind: ${sc.sources.kind_mismatch.join(', ')}\n`);
      for (const l of sc.legit_targets) process.stdout.write(`  legit ${l.what} ${l.id}: ${l.why}\n`);
    }
    const scored = rows.filter((r) => r.error === undefined);
    const total = scored.reduce((n, r) => n + r.sources.total, 0);
    const found = scored.reduce((n, r) => n + r.sources.found.length, 0);
    const legit = scored.reduce((n, r) => n + r.legit_targets.length, 0);
    const legitScenarios = scored.filter((r) => r.legit_targets.length > 0).length;
    const attackers = scored.reduce((n, r) => n + r.attackers.total, 0);
    const blocked = scored.reduce((n, r) => n + r.attackers.blocked, 0);
    const recall = total === 0 ? 1 : found / total;
    const contract = scored[0]?.contract ?? { sources: false, auth_ids: false };
    process.stdout.write(`\nTOTAL: recall of sources ${found}/${total} (${(recall * 100).toFixed(1)}%), legitimate targets ${legit} in ${legitScenarios} of ${scored.length} scenarios, attacker addresses blocked ${blocked}/${attackers}${errors > 0 ? `, ${errors} scenario(s) without a verdict` : ''}\n`);
    process.stdout.write(`verdict reports sources: ${contract.sources ? 'yes' : 'no (fallback: sender/senders as mailboxes, scripts)'}; auth_ids: ${contract.auth_ids ? 'yes' : 'no'}; maillog given: ${flags.maillog ? 'yes' : 'no (investigate has no --maillog)'}\n`);
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify({ seed: o.seed, flags, totals: { sources: total, found, recall, legit_targets: legit, legit_scenarios: legitScenarios, attackers, attackers_blocked: blocked, errors }, scenarios: rows }, null, 2)}\n`);
    if (errors > 0) return 1;
    if (o.strict && (recall < o.minRecall || legit > o.maxLegit)) {
      process.stdout.write(`STRICT: target not met (recall ${recall.toFixed(3)} < ${o.minRecall} or legitimate targets ${legit} > ${o.maxLegit})\n`);
      return 1;
    }
    return 0;
  } finally {
    if (temp !== null) rmSync(temp, { recursive: true, force: true });
  }
}

process.exitCode = main();
