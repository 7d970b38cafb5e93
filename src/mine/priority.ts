import type { Finding, MechanismKind, SignalKind } from "./types.js";

/**
 * Which finding names the mechanism when a failure shows several: the earliest cause in the chain
 * that a harness edit can address comes first. A long install killed by the timeout comes before
 * the mock the agent then wrote; a stand-in before the unchecked claim that presents it; the broad
 * symptoms (failing commands, a timeout label) come last.
 */
export const MECHANISM_PRIORITY: readonly SignalKind[] = [
  "context-overflow",
  "format-error",
  "interactive-hang",
  "foreground-long-operation",
  "env-lost",
  "gave-up",
  "fabricated-result",
  "missing-dependency",
  "wrong-output-path",
  "missing-artifact",
  "repeated-failing-command",
  "stalled-loop",
  "unverified-completion",
  "tool-error-then-stop",
  "late-or-no-write",
  "timeout",
];

/** The model labeller's own classes, after every detected mechanism. */
const LABEL_ONLY: readonly MechanismKind[] = ["misread-instruction", "wrong-solution"];

export function dominantFinding(findings: Finding[]): Finding | undefined {
  const order: readonly string[] = [...MECHANISM_PRIORITY, ...LABEL_ONLY];
  const rank = (kind: string) => {
    const at = order.indexOf(kind);
    return at === -1 ? order.length : at;
  };
  return [...findings].sort((a, b) => rank(a.kind) - rank(b.kind))[0];
}
