/**
 * A Probot-compatible logger for GitHub Actions: info lines as plain output, warnings and errors as
 * workflow commands (annotations on the run), debug lines as `::debug::` (shown when the run has step
 * debugging on). Every line is also kept for the job summary.
 */
import type { Logger } from "probot";

export interface ActionLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  detail: string;
}

/** Workflow command data may not carry raw newlines or percent signs. */
export function escapeData(text: string): string {
  return text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function detailOf(obj: unknown): string {
  if (obj === undefined || obj === null) return "";
  try {
    return JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? value.message : value));
  } catch {
    return String(obj);
  }
}

export function actionsLog(write: (text: string) => void): { log: Logger; lines: ActionLine[] } {
  const lines: ActionLine[] = [];
  const emit = (level: ActionLine["level"]) => (objOrMsg: unknown, msg?: string) => {
    const line: ActionLine = typeof objOrMsg === "string" ? { level, msg: objOrMsg, detail: "" } : { level, msg: msg ?? "", detail: detailOf(objOrMsg) };
    lines.push(line);
    const text = line.detail ? `${line.msg} ${line.detail}` : line.msg;
    // The runner reads any output line that starts with `::` as a workflow command: an info line carries
    // trace and model text, so its line breaks are flattened and it stays one line of plain output.
    if (level === "info") write(`${text.replace(/[\r\n]+/g, " ")}\n`);
    else write(`::${level === "warn" ? "warning" : level}::${escapeData(text)}\n`);
  };
  const log: Record<string, unknown> = {
    level: "debug",
    trace: emit("debug"),
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    fatal: emit("error"),
    silent: () => undefined,
    isLevelEnabled: () => true,
  };
  log.child = () => log;
  return { log: log as unknown as Logger, lines };
}
