/**
 * `.github/selfharness.yml` read and checked. A repository without one gets the defaults
 * (defaults.ts), for which neither the YAML parser nor the schema, nor zod with it, is loaded.
 */
import { parse as parseYaml, YAMLParseError } from "yaml";
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

/** Parses and validates the YAML text of a configuration file. */
export function parseConfig(text: string, file = CONFIG_PATH): ConfigResult {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : "";
    return { ok: false, problems: [{ file, key: "", message: `not valid YAML${where}: ${firstLine(error)}` }] };
  }
  if (value !== null && value !== undefined && (typeof value !== "object" || Array.isArray(value))) {
    return { ok: false, problems: [{ file, key: "", message: "expected a mapping of keys at the top level" }] };
  }
  return validateConfig(value, file);
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0] ?? "";
}
