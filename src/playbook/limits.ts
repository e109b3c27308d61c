/**
 * Bounds on what validating a playbook may cost. A real playbook is a few KB; these leave a
 * thousand times that and keep a wrong or hostile file (a log, a 50 MB dump, a file full of
 * errors) from taking the machine's memory or the operator's scrollback.
 */
export const MAX_PLAYBOOK_BYTES = 2 * 1024 * 1024;

/** Problems listed per playbook; the rest are counted ("... and N more"). */
export const MAX_REPORTED_PROBLEMS = 50;

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

export function tooLargeMessage(bytes: number): string {
  return `the file is ${formatBytes(bytes)}; a playbook may be at most ${formatBytes(MAX_PLAYBOOK_BYTES)} (a real one is a few KB): is this the right file?`;
}
