import { readFileSync } from "node:fs";

/**
 * This package's version, from its package.json: the nearest one above this module, which sits in
 * `src/`, `dist/`, `dist/bundle/` (the CLI's bundle) or `action/`.
 */
export function packageVersion(): string {
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "selfharness") return typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      // Not there: one folder further up.
    }
  }
  return "unknown";
}
