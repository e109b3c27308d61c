/** The exit codes of every command (the README table). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  gate: 3,
  approveMismatch: 4,
  audit: 5,
  interrupted: 130,
} as const;
