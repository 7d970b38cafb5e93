import { jobSignal } from "../runtime/deadline.js";

/** How GitHub and model calls are retried; tests shorten the delays. */
export const retryDefaults = { attempts: 4, baseMs: 1000, maxMs: 30_000 };

export interface RetryOptions {
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/**
 * Runs `task` until it succeeds or fails in a way that waiting cannot fix. Exponential backoff with
 * jitter, honouring `retry-after` (secondary rate limits answer 403/429 with it).
 */
export async function withRetry<T>(task: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? retryDefaults.attempts;
  const baseMs = options.baseMs ?? retryDefaults.baseMs;
  const maxMs = options.maxMs ?? retryDefaults.maxMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      // A job past its deadline stops here rather than waiting to try again.
      if (attempt >= attempts || !isRetryable(error) || jobSignal()?.aborted) throw error;
      const backoff = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
      const waitMs = Math.min(maxMs, retryAfterMs(error) ?? Math.round(backoff * (0.5 + Math.random() / 2)));
      options.onRetry?.(error, attempt, waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Server errors, rate limits and network failures are worth another try; other 4xx answers are not. */
export function isRetryable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return true;
  if (status >= 500 || status === 429) return true;
  return status === 403 && isRateLimit(error);
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

function isRateLimit(error: unknown): boolean {
  const headers = headersOf(error);
  if (headers["retry-after"] !== undefined || headers["x-ratelimit-remaining"] === "0") return true;
  return /rate limit/i.test(error instanceof Error ? error.message : String(error));
}

function retryAfterMs(error: unknown): number | undefined {
  const value = headersOf(error)["retry-after"];
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function headersOf(error: unknown): Record<string, string | undefined> {
  const headers = (error as { response?: { headers?: Record<string, string | undefined> } } | null)?.response?.headers;
  return headers ?? {};
}

/**
 * Creates something that GitHub would create twice if asked twice (a comment, an issue, a check run, a
 * dispatch). When an attempt fails in a way that may have taken effect (a 5xx or a lost connection:
 * GitHub may have stored it before the answer was lost), the next attempt first looks for what the
 * earlier one made and returns that. The create itself must turn Octokit's own retry off
 * (`request: { retries: 0 }`), which would repeat it blindly.
 */
export async function createOnce<T>(create: () => Promise<T>, find: () => Promise<T | null>, options: RetryOptions = {}): Promise<T> {
  let uncertain = false;
  return withRetry(async () => {
    if (uncertain) {
      const found = await find();
      if (found !== null) return found;
    }
    try {
      return await create();
    } catch (error) {
      const status = statusOf(error);
      uncertain ||= status === undefined || status >= 500;
      throw error;
    }
  }, options);
}

/** Per-request Octokit option that leaves retrying a create to `createOnce`. */
export const NO_PLUGIN_RETRY = { retries: 0 } as const;

/**
 * A list response cut off mid-body reaches the app as a 200 with an empty body. Using it as a list
 * would crash far from the cause (`data.filter is not a function`); this error names the endpoint and,
 * having no HTTP status, is retried by `withRetry`.
 */
export class IncompleteResponseError extends Error {
  constructor(readonly endpoint: string) {
    super(`GitHub's answer to ${endpoint} lacks the expected data (cut off mid-body?)`);
    this.name = "IncompleteResponseError";
  }
}

/**
 * `list` when it is an array of objects, else an `IncompleteResponseError` naming `endpoint`
 * (`octokit.paginate` turns an empty page into `[""]`, hence the look at the items).
 */
export function expectList<T>(list: T[], endpoint: string): T[] {
  if (!Array.isArray(list) || !list.every((item) => typeof item === "object" && item !== null)) throw new IncompleteResponseError(endpoint);
  return list;
}
