/**
 * Asks for a passphrase on the terminal without echoing it. Only used when stdin is a TTY;
 * otherwise the key must be in the agent or unencrypted.
 */
export function askHidden(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) return Promise.reject(new Error('a passphrase is needed but there is no terminal to ask on; add the key to ssh-agent'));
  return new Promise((resolve, reject) => {
    let value = '';
    // Echo goes off before the question shows: what is typed as soon as it appears (a quick
    // hand, a script answering the prompt) would otherwise be echoed by the terminal.
    input.setRawMode(true);
    input.resume();
    process.stderr.write(question);
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.on('data', onData);
  });
}
