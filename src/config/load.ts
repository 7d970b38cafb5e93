import { parse as parseYaml, YAMLParseError } from "yaml";
import { CONFIG_PATH, validateConfig, type ConfigResult } from "./validate.js";

export { CONFIG_PATH, formatProblems, validateConfig, type ConfigProblem, type ConfigResult } from "./validate.js";

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
