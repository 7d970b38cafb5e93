/**
 * The configuration's checks, apart from its YAML parser (load.ts): a command run without a
 * configuration file validates the defaults and never loads the parser.
 */
import { CONFIG_PATH } from "./path.js";
import { configSchema, type SelfharnessConfig } from "./schema.js";

export { CONFIG_PATH };

export interface ConfigProblem {
  file: string;
  /** Dotted key path, e.g. `propose.budget.maxFiles`; empty for the whole file. */
  key: string;
  message: string;
}

export type ConfigResult = { ok: true; config: SelfharnessConfig } | { ok: false; problems: ConfigProblem[] };

/** Validates an already-parsed configuration object (as `context.config` returns it). */
export function validateConfig(value: unknown, file = CONFIG_PATH): ConfigResult {
  const parsed = configSchema.safeParse(value ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      file,
      key: issue.path.map(String).join("."),
      message: describeIssue(issue),
    })),
  };
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.file}${p.key ? ` → ${p.key}` : ""}: ${p.message}`).join("\n");
}

function describeIssue(issue: { code: string; message: string; keys?: string[] }): string {
  if (issue.code === "unrecognized_keys" && issue.keys) {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")}`;
  }
  return issue.message;
}
