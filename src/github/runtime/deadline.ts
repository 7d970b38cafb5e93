import { AsyncLocalStorage } from "node:async_hooks";
import { integerSetting } from "./settings.js";

/**
 * Every job runs under a deadline (SELFHARNESS_JOB_DEADLINE_SECONDS, an hour by default). Reading an
 * artifact has its own time budget and the model client its own timeout, but nothing else bounds a
 * job: a download that trickles, or a GitHub request that never answers, would hold its repository's
 * turn in the queue forever. Past the deadline the job counts as failed, its repository's next job
 * starts, and the job's signal is aborted: its GitHub client refuses every further request, so a job
 * that wakes up late writes nothing.
 */
export function jobDeadlineMs(env: NodeJS.ProcessEnv): number {
  return integerSetting(env, "SELFHARNESS_JOB_DEADLINE_SECONDS", 3600, 1, 86_400) * 1000;
}

const running = new AsyncLocalStorage<AbortSignal>();

/** The running job's signal, aborted once it is past its deadline; undefined outside a job. */
export function jobSignal(): AbortSignal | undefined {
  return running.getStore();
}

/** Runs `work` as a job that must finish within `ms`: rejects with the reason once the time is up. */
export function withDeadline(name: string, ms: number, work: () => Promise<void>): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const reason = new Error(`${name} ran past its deadline of ${ms / 1000} s (SELFHARNESS_JOB_DEADLINE_SECONDS) and was stopped`);
      controller.abort(reason);
      reject(reason);
    }, ms);
  });
  const work$ = running.run(controller.signal, work);
  // After the deadline the work may still settle; its outcome no longer matters.
  work$.catch(() => undefined);
  return Promise.race([work$, expired]).finally(() => clearTimeout(timer));
}

const bound = new WeakSet<object>();

/** What a job's GitHub client needs to be bound to it: Octokit's request hooks. */
export interface GitHubClient {
  hook: { before(name: "request", hook: (options: { request?: { signal?: AbortSignal } }) => void): void };
}

/**
 * Ties a GitHub client to the running job: each request carries the job's signal (a request in
 * flight at the deadline is aborted) and none starts after it. Probot builds a client per event, so
 * this binds one event's client to the job that handles it.
 */
export function bindToJob(octokit: GitHubClient): void {
  const signal = jobSignal();
  if (!signal || bound.has(octokit)) return;
  bound.add(octokit);
  octokit.hook.before("request", (options) => {
    signal.throwIfAborted();
    options.request = { ...options.request, signal };
  });
}
