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

/**
 * GitHub refuses a dispatch whose inputs are longer than this: "The maximum payload for inputs is
 * 65,535 characters" (GitHub Actions workflow syntax, `on.workflow_dispatch.inputs`). The stage's task
 * list is the input that grows with the regression set.
 */
export const MAX_DISPATCH_INPUTS = 65_535;

/** The inputs of one dispatch of the regression workflow, as the host sends them. */
export function regressionInputs(selfharnessId: string, tasks: readonly string[], trials: number): Record<string, string> {
  return { selfharness_id: selfharnessId, tasks: tasks.join(","), trials: String(trials) };
}

/** Why a stage cannot be dispatched as it stands (its inputs are too long for GitHub), or null. */
export function inputsProblem(stage: number, inputs: Record<string, string>): string | null {
  const size = JSON.stringify(inputs).length;
  if (size <= MAX_DISPATCH_INPUTS) return null;
  const tasks = inputs.tasks ? inputs.tasks.split(",").length : 0;
  return `The regression workflow could not be dispatched: stage ${stage} names ${tasks} tasks, ${size} characters of inputs, more than the ${MAX_DISPATCH_INPUTS} GitHub accepts; lower \`regression.preserve\` or \`regression.maxHeldOut\`.`;
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
