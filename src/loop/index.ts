/**
 * The loop, as plain steps over plain data. A host (the GitHub App, the Action, the CLI) calls them
 * and does the reading and writing they ask for through `Host`:
 *
 *   eval run completed   → improve (mine, choose, draft, open)  → startValidation
 *   regression run done  → judgeRegressionRun → judgeValidation   (verdict effects from one table)
 *   /selfharness command → immediateReply | runCommand           (retry, retry regression, explain, ignore, approve)
 *   someone else's push  → handleForeignPush                      → startValidation
 *   Re-run of the check  → rerunGate                              → judgeValidation | startValidation
 *   startValidation      → holds model-written code for approval (approvalWait) before any dispatch
 *   after each of these  → recordEvalRun | recordVerdict | refreshDashboard; ticked boxes → actOnDashboard
 */
export type * from "./host.js";
export { improve, type ImproveOutcome, type Skipped } from "./improve.js";
export { mineTrials, findWeakness, type Mined } from "./mine.js";
export { blockedWeaknesses, chooseWeakness, openProposalsBlock, weaknessSlug } from "./choose.js";
export { draftProposal, evidenceFor, type Draft, type Drafted } from "./draft.js";
export { startValidation, repeatStage, resumeValidation, type ValidationStarted } from "./validate.js";
export { judgeRegressionRun, judgeValidation, matchRun, findProposalOfRun, isWorkflowPath, type JudgeOutcome, type RegressionRun, type RunMatch } from "./judge.js";
export { parseCommand, immediateReply, runCommand, rebuildWeakness, nextCandidate, COMMAND_PREFIX, type Command, type CommandOutcome, type RebuiltWeakness } from "./commands.js";
export { handleForeignPush, isKnownHead } from "./push.js";
export { approvalWait, approve, holdForApproval, isProse } from "./approval.js";
export { rerunGate, type RerunOutcome } from "./rerun.js";
export { actOnDashboard, dashboardBlocked, judgedVerdict, recordEvalRun, recordVerdict, refreshDashboard, weaknessRows, type DashboardStore, type FilteredRun } from "./dashboard.js";
export { dashboardState, dashboardStateSchema, emptyDashboardState, type DashboardState } from "./dashboard-state.js";
export { regressionTasks, runNameHasId, isSafeTaskName } from "./dispatch.js";
export { dispatchStage, loadStages, resolveStage, stageDispatchId } from "./stages.js";
export { decodeState, encodeState, withState, parseProposalState, proposalStateSchema, type ProposalState, type Validation, type Stage } from "./state.js";
export * from "./names.js";
