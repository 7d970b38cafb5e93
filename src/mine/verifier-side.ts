import type { Trial } from "../traces/types.js";
import { missingPaths } from "./signals.js";
import { verifierScreen, verifierText } from "./verifier.js";

/** A verifier-side error: one that no output of the agent can fix, as far as the instruction shows. */
export interface VerifierSideError {
  key: string;
  reason: string;
}

const COLLECTION = /ERROR collecting [^\n]{0,200}|ImportError while importing test module[^\n]{0,200}|errors? during collection/;
const KEY_ERROR = /KeyError: ['"]([^'"\n]{1,40})['"]/;
/** An instruction that hands the specification to a document ("the task described in /app/TASK.md"). */
const DELEGATES = /\b(?:described|specified|defined|explained|detailed|instructions?|spec(?:ification)?)\b[^.\n]{0,40}?(?:\/[\w./-]+|\b[\w.-]+\.(?:md|txt|rst))|\b(?:README|TASK|INSTRUCTIONS?)[\w.-]*\.(?:md|txt|rst)\b/i;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** True when the instruction names `word` as a word of its own (case-sensitive: keys and paths are). */
function names(instruction: string, word: string): boolean {
  return new RegExp(`(?:^|[^\\w/.-])${escapeRegExp(word)}(?:$|[^\\w-])`).test(instruction);
}

/**
 * True when something the agent was shown or said besides the instruction holds `word` (one line):
 * a task often points to a file (`/app/TASK.md`) that names what the instruction does not.
 */
function seenByAgent(trial: Trial, word: string): boolean {
  // Every text holds the empty word ("/out/" has none): it names nothing the agent missed.
  if (word === "") return true;
  return trial.steps.some((s) => s.text?.includes(word) || s.output?.includes(word) || s.calls?.some((c) => c.command?.includes(word)));
}

export function verifierSideError(trial: Trial): VerifierSideError | undefined {
  const output = verifierScreen(trial);
  const collection = COLLECTION.exec(output);
  if (collection) return { key: "collection", reason: `the test module fails to import (${collection[0].trim().slice(0, 120)})` };
  const text = verifierText(trial);
  const instruction = trial.instruction;
  if (instruction === undefined) return undefined;
  const key = KEY_ERROR.exec(text)?.[1];
  if (key !== undefined && !names(instruction, key) && !seenByAgent(trial, `"${key}"`) && !seenByAgent(trial, `'${key}'`)) {
    return { key: `key:${key}`, reason: `the test reads the key '${key}', which the instruction never names` };
  }
  // A path counts only where the instruction is the whole specification (not "the task described in
  // /app/TASK.md"), on a trial with a record of what the agent saw: nothing it read may name it either.
  if (trial.steps.length === 0 || DELEGATES.test(instruction)) return undefined;
  const missing = missingPaths(trial);
  const unnamed = missing.filter((p) => {
    const base = p.replace(/^.*\//, "");
    return p.startsWith("/") && !names(instruction, p) && !names(instruction, base) && !seenByAgent(trial, base);
  });
  if (unnamed.length > 0 && unnamed.length === missing.length) {
    return { key: `path:${unnamed[0]}`, reason: `the test looks for ${unnamed[0]}, a path neither the instruction nor anything the agent read names` };
  }
  return undefined;
}
