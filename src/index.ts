/**
 * The selfharness library: each layer usable on its own, without GitHub, and the loop's steps for a
 * host of your own. The GitHub App lives in `selfharness/dist/github/index.js` and is not part of
 * this entry point.
 */
export * from "./traces/index.js";
export * from "./mine/index.js";
export * from "./propose/index.js";
export * from "./gate/index.js";
export * from "./llm/index.js";
export { configSchema, type SelfharnessConfig, type BudgetConfig, type HarnessConfig, type GateConfig } from "./config/schema.js";
export { parseConfig, validateConfig, formatProblems, CONFIG_PATH, type ConfigProblem, type ConfigResult } from "./config/load.js";
export { formatVerdictMarkdown, formatVerdictText, verdictChart, formatPlan, formatWatchText } from "./report/verdict.js";
export { watchComment, type WatchReport, type RunLink } from "./report/watch.js";
export * from "./loop/index.js";
export { main as runCli } from "./cli.js";
