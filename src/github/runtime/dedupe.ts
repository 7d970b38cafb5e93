/**
 * At most once per (repository, run id, run attempt) within this process: redeliveries and
 * concurrent deliveries of the same event claim the same key, and only the first claim wins. The
 * check-and-set is synchronous, so two deliveries racing on one event loop cannot both pass.
 *
 * Limits: the memory is per process and forgets after the TTL. With REDIS_URL the deduplication across
 * processes is the Redis queue's: a job's id is the same key, and Redis keeps one job per id for a
 * day. Across replicas without Redis the GitHub state is the guard: before mining, and again just
 * before opening a pull request, the eval handler looks for an open proposal whose metadata records
 * the same trigger run and attempt, and a branch that already exists is reused rather than
 * duplicated. Two replicas handling the same delivery within the same seconds can still both mine;
 * at most one pull request per branch results, since GitHub refuses a second PR for the same head.
 */
import { noteReleased } from "./queue.js";

const TTL_MS = 24 * 60 * 60 * 1000;
const MAX_KEYS = 10_000;

const claimed = new Map<string, number>();

export function runKey(repoFullName: string, runId: number, attempt: number): string {
  return `${repoFullName.toLowerCase()}#${runId}#${attempt}`;
}

/** True for the first claim of `key` within the TTL, false for every later one. */
export function claimOnce(key: string, now = Date.now()): boolean {
  const expires = claimed.get(key);
  if (expires !== undefined && expires > now) return false;
  claimed.set(key, now + TTL_MS);
  if (claimed.size > MAX_KEYS) evict(now);
  return true;
}

/** Gives a claim back, so a job that could not even start may be tried again on redelivery. */
export function releaseClaim(key: string): void {
  claimed.delete(key);
  noteReleased(key);
}

function evict(now: number): void {
  for (const [key, expires] of claimed) {
    if (expires <= now || claimed.size > MAX_KEYS) claimed.delete(key);
  }
}
