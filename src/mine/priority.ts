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

/** Every mechanism the miner can name, in the order of `MECHANISM_PRIORITY`. */
export const MECHANISM_ORDER: readonly MechanismKind[] = [...MECHANISM_PRIORITY, ...LABEL_ONLY];

export function dominantFinding(findings: Finding[]): Finding | undefined {
  const rank = (kind: string) => {
    const at = (MECHANISM_ORDER as readonly string[]).indexOf(kind);
    return at === -1 ? MECHANISM_ORDER.length : at;
  };
  return [...findings].sort((a, b) => rank(a.kind) - rank(b.kind))[0];
}
