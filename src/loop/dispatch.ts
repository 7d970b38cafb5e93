import type { Dispatched } from "./host.js";
import type { ProposalState } from "./state.js";

/** Every task a proposal names: targeted failures, a preserve sample and held-out tasks, each once, in that order. */
export function proposalTasks(tasks: ProposalState["tasks"]): string[] {
  return [...new Set([...tasks.targeted, ...tasks.preserve, ...tasks.heldOut])];
}

/** The regression tasks: the proposal's tasks whose names may be dispatched. */
export function regressionTasks(tasks: ProposalState["tasks"]): string[] {
  return proposalTasks(tasks).filter(isSafeTaskName);
}

/**
 * Task names travel to the regression workflow as one comma-separated input and from there to a shell
 * and a command line. They come from traces, so only names of this shape are ever passed on: no
 * separators, no whitespace or newlines, no quotes, nothing a shell would read.
 */
const SAFE_TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+/-]{0,199}$/;

export function isSafeTaskName(name: string): boolean {
  return SAFE_TASK_NAME.test(name) && !name.includes("..");
}

/** Why the regression workflow did not start on `ref`, in words a person can act on. */
export function dispatchProblem(workflow: string, ref: string, refused: Extract<Dispatched, { ok: false }>): string {
  const hint =
    refused.reason === "missing-workflow"
      ? `the workflow \`${workflow}\` does not exist on \`${ref}\``
      : refused.reason === "not-dispatchable"
        ? `the workflow \`${workflow}\` on \`${ref}\` has no \`workflow_dispatch\` trigger with the inputs \`selfharness_id\`, \`tasks\` and \`trials\``
        : `GitHub answered: ${refused.message}`;
  return `The regression workflow could not be dispatched on \`${ref}\`: ${hint}.`;
}

/** True when `title` contains `id` as a whole token (`x-1` must not match a run named `x-12`). */
export function runNameHasId(title: string | null | undefined, id: string): boolean {
  if (!title || !id) return false;
  let from = 0;
  for (;;) {
    const at = title.indexOf(id, from);
    if (at < 0) return false;
    const before = title[at - 1];
    const after = title[at + id.length];
    if (!isIdChar(before) && !isIdChar(after)) return true;
    from = at + 1;
  }
}

function isIdChar(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z0-9_.-]/.test(char);
}
