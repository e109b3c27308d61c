import { scrubSecrets } from '../../core/secret.js';

/** One HTTP request an adapter wants made. Bodies are built once and can be re-sent. */
export interface OutgoingRequest {
  /** What this request does, for messages: "comment on OPS-12". */
  description: string;
  url: string;
  headers: Record<string, string>;
  /** A string (JSON) or a builder (multipart FormData must be rebuilt per attempt). */
  body: string | (() => FormData);
}

export interface RetryOptions {
  /** Attempts in all, including the first. Default 4. */
  attempts?: number;
  /** First backoff; doubles each retry (with jitter). Default 500 ms. */
  baseDelayMs?: number;
  /** Upper bound of one backoff. Default 8 s. */
  maxDelayMs?: number;
  /** Per attempt. Default 20 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  attempts: number;
  body: string;
}

/** The service refused the credentials or the request: retrying cannot help. */
export class AttachHttpError extends Error {
  readonly status: number | undefined;
  readonly attempts: number;
  readonly retryable: boolean;
  constructor(message: string, status: number | undefined, attempts: number, retryable: boolean) {
    super(scrubSecrets(message));
    this.name = 'AttachHttpError';
    this.status = status;
    this.attempts = attempts;
    this.retryable = retryable;
  }
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/**
 * POSTs with bounded retries: network errors, timeouts, 429 and 5xx are retried with
 * exponential backoff; other 4xx fail at once (the caller turns 401/403 into advice).
 */
export async function postWithRetry(request: OutgoingRequest, options: RetryOptions = {}): Promise<PostResult> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 8000;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? sleepFor;
  let lastError = '';
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 20_000);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      const response = await doFetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: typeof request.body === 'string' ? request.body : request.body(),
        signal,
        redirect: 'error',
      });
      const text = await response.text();
      if (response.ok) return { status: response.status, attempts: attempt, body: text };
      lastStatus = response.status;
      lastError = `HTTP ${response.status}${text ? `: ${excerpt(text)}` : ''}`;
      const retryable = response.status >= 500 || response.status === 429;
      if (!retryable) throw new AttachHttpError(`${request.description} failed: ${lastError}`, response.status, attempt, false);
    } catch (error) {
      if (error instanceof AttachHttpError) throw error;
      if (options.signal?.aborted) throw new AttachHttpError(`${request.description} was interrupted`, undefined, attempt, false);
      lastStatus = undefined;
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      lastError = timeout.aborted ? `no answer within ${options.timeoutMs ?? 20_000} ms` : `network error: ${cause}`;
    }
    if (attempt < attempts) {
      const delay = Math.min(max, base * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
  throw new AttachHttpError(`${request.description} failed after ${attempts} attempts: ${lastError}`, lastStatus, attempts, true);
}
