import type { TestResult, Trial } from "../traces/types.js";
import { terminalText } from "../traces/terminal.js";

export function failedTests(trial: Trial): TestResult[] {
  return (trial.tests ?? []).filter((t) => t.status === "failed");
}

/**
 * The verifier's output as cleaned text. The summary and several detectors read it for each trial;
 * cleaning it once instead of each time cut summarising a Terminal-Bench 1 run by a quarter. The
 * last answer is kept for the same output, compared by value: a changed trial is cleaned afresh.
 */
let lastOutput: string | undefined;
let lastText = "";
export function verifierScreen(trial: Trial): string {
  const output = trial.verifierOutput ?? "";
  if (output !== lastOutput) {
    lastText = terminalText(output);
    lastOutput = output;
  }
  return lastText;
}

/** The verifier's short test summary lines (`FAILED tests/test_x.py::test_name - ...`). */
export function summaryLines(trial: Trial): string[] {
  return verifierScreen(trial)
    .split("\n")
    .filter((l) => /^(?:FAILED|ERROR)\s/.test(l));
}

/**
 * A failed test's message, or when the reader found none, the one in the verifier's short test
 * summary (`FAILED tests/test_x.py::test_name - AssertionError: ...`). Pass `lines` when asking for
 * many tests of one trial: the output is cleaned and split once, not once per test.
 */
export function testMessage(trial: Trial, test: TestResult, lines?: string[]): string | undefined {
  if (test.message) return test.message;
  const line = (lines ?? summaryLines(trial)).find((l) => l.includes(`::${test.name}`));
  return line ? / - (.+)$/.exec(line)?.[1]?.trim() : undefined;
}

// Pytest's failure lines; the rest of a verifier's output is mostly setup noise (installs, banners).
const FAILURE_LINE = /^(?:E\s|FAILED\s|ERROR\s|\w*(?:Error|Exception):)/;

/**
 * What the verifier said about the failure: failed tests' messages when present, else the failure
 * lines of its output, else the whole output tail.
 */
export function verifierText(trial: Trial): string {
  const failed = failedTests(trial);
  const lines = failed.some((t) => !t.message) ? summaryLines(trial) : [];
  const messages = failed.map((t) => testMessage(trial, t, lines) ?? "").filter(Boolean);
  if (messages.length > 0) return messages.join("\n");
  const output = verifierScreen(trial);
  const failures = output.split("\n").filter((line) => FAILURE_LINE.test(line));
  return failures.length > 0 ? failures.join("\n") : output;
}

/** Verifier wording for a file that should exist and does not. */
export const MISSING_FILE_TEXT = /FileNotFoundError|No such file or directory|does not exist|is missing/;
const EXCEPTION = /\b([A-Z]\w*(?:Error|Exception))\b/g;
const ASSERTION = /\bassert(?:ion)?\b/i;

function exceptionClass(text: string): string | undefined {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(EXCEPTION)) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
  // Pytest repeats the failing exception in its summary; the most frequent class is the terminal one.
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/**
 * A generic terminal cause from the verifier's evidence: never a task-specific string, so that
 * failures of different tasks with the same cause can cluster.
 */
export function terminalCause(trial: Trial, agentTimedOut: boolean): string {
  const failed = failedTests(trial);
  const text = verifierText(trial);
  if (failed.some((t) => /exist/i.test(t.name)) || MISSING_FILE_TEXT.test(text)) return "missing-output-file";
  const exception = exceptionClass(text);
  if (exception === "AssertionError") return "assertion-failed";
  if (exception) return `error:${exception}`;
  if (ASSERTION.test(text)) return "assertion-failed";
  if (failed.length > 0) return "test-failed";
  if (agentTimedOut) return "timeout";
  return "no-verdict-detail";
}
