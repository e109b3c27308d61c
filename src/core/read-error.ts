/**
 * Why a file could not be read, in words an operator acts on (not raw `ENOENT: no such file
 * or directory, open ...`).
 */
export function whyUnreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file (check the path; relative paths start at the current directory)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (check the file\'s owner and mode, or run as a user who may read it)';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** A file named on the command line (playbook, inventory, vars file) that cannot be read. */
export class FileReadError extends Error {
  constructor(what: string, path: string, cause: unknown) {
    super(`cannot read ${what} ${path}: ${whyUnreadable(cause)}`);
    this.name = 'FileReadError';
  }
}
