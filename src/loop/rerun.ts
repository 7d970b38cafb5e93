import type { Host, LoopContext, ProposalPR } from "./host.js";
import { judgeValidation, type JudgeOutcome } from "./judge.js";
import { resolveStage } from "./stages.js";
import type { ProposalState } from "./state.js";
import { repeatStage, startValidation, type ValidationStarted } from "./validate.js";

export type RerunOutcome =
  | { status: "ignored"; reason: string }
  | { status: "validation"; started: ValidationStarted }
  | { status: "running"; reason: string }
  | { status: "judge"; outcome: JudgeOutcome };

/**
 * The Re-run button of the gate check on `headSha`: judge the current stage's runs again when they are
 * all in, or dispatch what is missing (nothing was dispatched for this commit, or a run of the stage is
 * gone: the stage runs again and its trials join it). A check on a commit that is no longer the branch
 * head is left alone.
 */
export async function rerunGate(host: Host, ctx: LoopContext, pr: ProposalPR, headSha: string): Promise<RerunOutcome> {
  const { state } = pr;
  if (headSha !== pr.headSha) return ignored(host, pr, `the check is on ${headSha.slice(0, 7)}, but the branch head is ${pr.headSha.slice(0, 7)}`);
  const validation = state.validation;
  if (!validation || validation.headSha !== pr.headSha) return { status: "validation", started: await startValidation(host, ctx, pr) };

  const stage = validation.stages.at(-1)!;
  const resolved = await resolveStage(host, pr, validation, stage, null);
  if (resolved.gone.size > 0) {
    host.log.info({ pr: pr.number, stage: stage.stage }, "re-run: a run of the current stage is gone; running the stage again");
    // A round with a run gone leaves the stage, both sides: a round is one dispatch on both sides at
    // once, judged as one look, so its surviving side has nothing of its window to pair with. The
    // other rounds keep their trials, and the repeat joins them.
    const rounds = Math.max(stage.candidate.length, stage.baseline.length);
    const whole = Array.from({ length: rounds }, (_, i) => i).filter((i) => ![stage.candidate[i], stage.baseline[i]].some((d) => !d || resolved.gone.has(d.selfharnessId)));
    const kept = { ...stage, candidate: whole.map((i) => stage.candidate[i]!), baseline: whole.map((i) => stage.baseline[i]!) };
    const withoutGone: ProposalState = { ...state, validation: { ...validation, stages: [...validation.stages.slice(0, -1), kept] } };
    return { status: "validation", started: await repeatStage(host, ctx, { ...pr, state: withoutGone }) };
  }
  if (resolved.pending.length > 0) {
    const reason = resolved.pending.join("; ");
    host.log.info({ pr: pr.number, stage: stage.stage }, `re-run: ${reason}`);
    return { status: "running", reason };
  }
  // The verdict of this commit is set aside, so the judge decides again from the recorded runs.
  const { verdict: _old, ...rest } = state;
  const current = { ...validation, stages: [...validation.stages.slice(0, -1), resolved.stage] };
  return { status: "judge", outcome: await judgeValidation(host, ctx, { ...pr, state: { ...rest, validation: current } }, current) };
}

function ignored(host: Host, pr: ProposalPR, reason: string): RerunOutcome {
  host.log.info({ pr: pr.number }, `re-run ignored: ${reason}`);
  return { status: "ignored", reason };
}
