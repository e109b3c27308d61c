/**
 * DNS for blocklist checks: node:dns's Resolver against one chosen server (or the system's),
 * each query asked once per run (cached), queries to one list spaced out (rate limit).
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

/** `IP`, `IP:PORT`, `[IPv6]:PORT` → the form Resolver#setServers takes; undefined if invalid. */
export function parseDnsServer(text: string): string | undefined {
  const trimmed = text.trim();
  if (isIP(trimmed) !== 0) return trimmed;
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(trimmed);
  const plain = /^([0-9.]+):(\d{1,5})$/.exec(trimmed);
  const m = bracketed ?? plain;
  if (m === null) return undefined;
  const port = Number(m[2]);
  const host = m[1] ?? '';
  if (isIP(host) === 0 || port < 1 || port > 65535) return undefined;
  return bracketed ? `[${host}]:${port}` : `${host}:${port}`;
}

export type ALookup = { kind: 'answers'; answers: string[] } | { kind: 'absent' } | { kind: 'failed'; code: string };

export interface DnsblResolverOptions {
  /** From parseDnsServer; the system's resolvers when absent. */
  server?: string;
  timeoutMs: number;
  tries: number;
  /** Least time between two queries to the same list. */
  intervalMs: number;
}

/**
 * Spaces out queries per list: each caller reserves the next free moment for its list at
 * once (so parallel callers queue in order) and then waits for it.
 */
export class PerListRateLimit {
  readonly #nextSlot = new Map<string, number>();
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async wait(list: string): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.#nextSlot.get(list) ?? 0);
    this.#nextSlot.set(list, at + this.intervalMs);
    if (at > now) await this.sleep(at - now);
  }
}

/** Numeric IPv4 order, so 127.0.0.2 comes before 127.0.0.10. */
function byAddress(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i += 1) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

export class DnsblResolver {
  readonly #resolver: Resolver;
  readonly #cache = new Map<string, Promise<unknown>>();
  readonly #limit: PerListRateLimit;

  constructor(options: DnsblResolverOptions) {
    this.#resolver = new Resolver({ timeout: options.timeoutMs, tries: options.tries });
    if (options.server !== undefined) this.#resolver.setServers([options.server]);
    this.#limit = new PerListRateLimit(options.intervalMs);
  }

  /** A records of `name`, asked under `list`'s rate limit. Never throws; errors keep only their code (names may hold a key). */
  lookupA(list: string, name: string): Promise<ALookup> {
    return this.#cached(`A ${name}`, async () => {
      await this.#limit.wait(list);
      try {
        return { kind: 'answers', answers: (await this.#resolver.resolve4(name)).sort(byAddress) };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        return ABSENT.has(code) ? { kind: 'absent' } : { kind: 'failed', code };
      }
    });
  }

  /** TXT strings of `name` (each record's chunks joined); empty when none or on error. */
  lookupTxt(list: string, name: string): Promise<string[]> {
    return this.#cached(`TXT ${name}`, async () => {
      await this.#limit.wait(list);
      try {
        return (await this.#resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
      } catch {
        return [];
      }
    });
  }

  cancel(): void {
    this.#resolver.cancel();
  }

  #cached<T>(key: string, ask: () => Promise<T>): Promise<T> {
    let hit = this.#cache.get(key) as Promise<T> | undefined;
    if (hit === undefined) {
      hit = ask();
      this.#cache.set(key, hit);
    }
    return hit;
  }
}
