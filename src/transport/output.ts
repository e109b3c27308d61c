/** Keeps at most `limit` bytes of a stream while counting all of it. */
export class OutputCollector {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;
  #kept = 0;
  bytes = 0;
  truncated = false;

  constructor(limit: number, onChunk?: (chunk: Buffer) => void) {
    this.#limit = limit;
    this.#onChunk = onChunk;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.#onChunk?.(chunk);
    if (this.#kept >= this.#limit) {
      this.truncated = true;
      return;
    }
    const room = this.#limit - this.#kept;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (kept.length < chunk.length) this.truncated = true;
    this.#chunks.push(kept);
    this.#kept += kept.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
