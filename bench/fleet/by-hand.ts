/**
 * Detection by hand: what the seed articles have an operator type on one server, as one script
 * for `ssh HOST sh -s`. It is not the dry-run's work (no domlogs, CSF, purge plan, no 24 h
 * window: every pipeline reads the whole main log), only the cheapest way a person finds the
 * sender, the script's directory and the subject — the detection part's floor.
 *
 * The pipelines are the articles' own (reference seeds 000 and 004), paths made this host's;
 * the subject and mailbox the last two need are the ones the earlier counts show, as an
 * operator would copy them from the screen.
 */
import type { IncidentManifest } from '../../fixtures/generator/incident.mjs';
import { quoteArgvForPosixShell } from '../../src/transport/quote.js';

export function seedDetectionScript(m: IncidentManifest): string {
  const q = (s: string) => quoteArgvForPosixShell([s]);
  const exim = q(m.tools.exim);
  const log = q(m.mainlog);
  const headers = `${q(`${m.spoolDir}/input`)}/*/*-H`;
  return [
    `${exim} -bpc`,
    `${exim} -bp | grep "<*>" | awk '{print $4}' | sort | uniq -c | sort -n`,
    `grep cwd=/ ${log} | cut -d = -f 2 | cut -d " " -f 1 | sort | uniq -c | sort -n`,
    `grep X-PHP-Script ${headers} | awk '{print $3}' | sort | uniq -c | sort -nr`,
    `awk -F'T="' '/<=/ {print $2}' ${log} | cut -d'"' -f1 | sort | uniq -c | sort -n`,
    `grep -F ${q(m.subjects.spam)} ${log} | awk '{print $5}' | sort | uniq -c | sort -n`,
    `grep -F ${q(`<= ${m.mailbox}`)} ${log} | grep -F ${q(m.subjects.spam)} | grep -o "\\[[0-9.]*\\]" | sort -n | uniq -c | sort -n`,
    '',
  ].join('\n');
}
