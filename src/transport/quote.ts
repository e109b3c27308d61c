/**
 * The one place where an argv array becomes a command string for a remote POSIX shell.
 *
 * SSH has no argv: the server hands one string to the user's login shell (`sh -c STRING`).
 * Every element is wrapped in single quotes, inside which a POSIX shell interprets nothing;
 * an embedded `'` closes the quote, adds an escaped quote and reopens: `'\''`. The result is
 * exactly the argv given, whatever the bytes ($(), backticks, globs, newlines, non-ASCII).
 */

export class UnquotableArgumentError extends Error {
  readonly index: number;
  constructor(index: number) {
    super(
      `argv[${index}] contains a NUL byte, which no remote command line can carry. ` +
        'Pass such data on stdin instead.',
    );
    this.name = 'UnquotableArgumentError';
    this.index = index;
  }
}

/** Quote one word for a POSIX shell. */
export function quoteWordForPosixShell(word: string, index = 0): string {
  if (word.includes('\0')) throw new UnquotableArgumentError(index);
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** Turn argv into the single command string an SSH server passes to `sh -c`. */
export function quoteArgvForPosixShell(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('quoteArgvForPosixShell: empty argv');
  return argv.map((word, i) => quoteWordForPosixShell(word, i)).join(' ');
}

/**
 * The remote command string for argv, preceded by a fixed preamble that writes the shell's
 * process id as the first line of stderr before exec'ing argv. sshd starts every session in
 * its own process group, so that id lets the transport kill the command and its children on a
 * timeout or abort: OpenSSH does not act on the SSH "signal" request, and closing the channel
 * leaves the process running.
 */
export function remoteCommandReportingPid(argv: readonly string[]): string {
  return `echo "$$" >&2; exec ${quoteArgvForPosixShell(argv)}`;
}
