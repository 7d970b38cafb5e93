import { createTwoFilesPatch, diffLines, FILE_HEADERS_ONLY } from "diff";
import picomatch from "picomatch";
import { parseDocument } from "yaml";
import type { BudgetConfig, SelfharnessConfig } from "../config/schema.js";
import { contentFinding, describeFinding, type ContentGuardConfig } from "./content.js";
import { isHarnessPath } from "./harness.js";
import type { DiscardedCandidate, Edit, Harness, Proposal } from "./types.js";

/**
 * Mechanical safety of a proposed edit, enforced whatever the proposer says: where it may write, how
 * much, that it applies exactly, that the file still parses, and that no benchmark detail leaks in.
 */

/**
 * Tests, verifiers and task definitions are the yardstick, never the thing to edit; CI configuration
 * runs with the repository's secrets, wherever it sits and whichever provider reads it. CI driven by a
 * Makefile or a script the CI file calls is not recognisable by path: such files are protected only if
 * they are left out of `harness.paths`.
 */
const PROTECTED = [
  "**/.github/**",
  "**/.gitea/**",
  "**/.forgejo/**",
  "**/.circleci/**",
  "**/.gitlab-ci.yml",
  "**/.gitlab-ci.yaml",
  "**/.gitlab/**",
  "**/.travis.yml",
  "**/azure-pipelines.yml",
  "**/azure-pipelines.yaml",
  "**/.azure-pipelines/**",
  "**/bitbucket-pipelines.yml",
  "**/Jenkinsfile",
  "**/Jenkinsfile.*",
  "**/*.jenkinsfile",
  "**/.buildkite/**",
  "**/.drone.yml",
  "**/.drone.yaml",
  "**/.drone.star",
  "**/.drone.jsonnet",
  "**/appveyor.yml",
  "**/.appveyor.yml",
  "**/.woodpecker*",
  "**/.woodpecker/**",
  "**/cloudbuild.yaml",
  "**/cloudbuild.yml",
  "**/cloudbuild.json",
  "**/.cirrus.yml",
  "**/.semaphore/**",
  "**/codefresh.yml",
  "**/bitrise.yml",
  "**/.pre-commit-config.yaml",
  "**/.pre-commit-hooks.yaml",
  "**/.husky/**",
  "**/test/**",
  "**/tests/**",
  "**/__tests__/**",
  "**/*.test.*",
  "**/*.spec.*",
  "**/test_*.py",
  "**/*_test.py",
  "**/*_test.go",
  "**/conftest.py",
  "**/verifier/**",
  "**/verifiers/**",
  "**/run-tests.sh",
  "**/run_tests.sh",
  "**/tasks/**",
  "**/task.yaml",
  "**/task.yml",
  "**/task.toml",
  "**/instruction.md",
  "**/solution.sh",
  "**/solution/**",
];
// Case-insensitive: `.GitHub/workflows` is the same folder on a case-insensitive checkout.
const isProtected = picomatch(PROTECTED, { dot: true, nocase: true });

export interface GuardOptions {
  harness: Harness;
  /** The configured `harness.paths` globs. */
  harnessPaths: string[];
  budget: BudgetConfig;
  /** Task names, test names and trial-specific paths that must not appear in added text. */
  forbidden: string[];
  /**
   * Every path in the repository's tree at the harness commit, loaded or not. Without it no edit may
   * create a file: a file the harness did not load (too large, binary, a link) would look new and be
   * replaced whole.
   */
  existingPaths?: ReadonlySet<string>;
  /** The repository's content guard settings (`propose.guards`): required, so no caller falls back to the strict defaults by leaving it out. */
  contentGuards: ContentGuardConfig;
}

/** One file's content before and after a proposal; `before` is null for a new file. */
export interface FileChange {
  path: string;
  before: string | null;
  after: string;
}

export interface EditStats {
  files: number;
  /** Lines added plus lines removed, as `git diff --stat` counts them. */
  changedLines: number;
  addedChars: number;
}

export type GuardResult = { ok: true; changes: FileChange[]; stats: EditStats } | { ok: false; reason: string };

/**
 * Applies a proposal's edits in order; edits to the same file see the earlier edits' result. An empty
 * `before` on a file the harness does not hold creates it, only when `existingPaths` shows that no such
 * file (or folder) exists in the repository.
 */
export function applyEdits(
  harness: Harness,
  edits: Edit[],
  existingPaths?: ReadonlySet<string>,
): { ok: true; changes: FileChange[] } | { ok: false; reason: string } {
  const original = new Map(harness.files.map((file) => [file.path, file.content]));
  const current = new Map<string, string>();
  for (const edit of edits) {
    const path = normalisePath(edit.path);
    if (path === null) return { ok: false, reason: `invalid path ${JSON.stringify(edit.path)}` };
    const content = current.get(path) ?? original.get(path);
    if (edit.before === "") {
      if (content === undefined) {
        const refusal = creationRefusal(path, existingPaths);
        if (refusal) return { ok: false, reason: refusal };
      }
      current.set(path, content === undefined ? edit.after : appendText(content, edit.after));
      continue;
    }
    if (content === undefined) return { ok: false, reason: `does not apply: ${path} is not a harness file` };
    const count = occurrences(content, edit.before, 2);
    if (count === 0) return { ok: false, reason: `does not apply: the \`before\` text is not in ${path}` };
    if (count > 1) return { ok: false, reason: `does not apply: the \`before\` text occurs more than once in ${path}, it must be unique` };
    const at = content.indexOf(edit.before);
    current.set(path, content.slice(0, at) + edit.after + content.slice(at + edit.before.length));
  }
  const changes = [...current].map(([path, after]) => ({ path, before: original.get(path) ?? null, after }));
  return { ok: true, changes };
}

/** Folders of a path list, cached per list: creation checks run once per candidate on the same tree. */
const foldersOf = new WeakMap<ReadonlySet<string>, Set<string>>();

function creationRefusal(path: string, existingPaths: ReadonlySet<string> | undefined): string | null {
  if (!existingPaths) return `cannot create ${path}: the repository's file list is unknown, so an existing file the harness did not load could be replaced whole`;
  if (existingPaths.has(path)) return `cannot create ${path}: it exists in the repository but was not loaded as a harness file (too large, binary or a link), so it cannot be edited`;
  let folders = foldersOf.get(existingPaths);
  if (!folders) {
    folders = new Set();
    for (const existing of existingPaths) for (let at = existing.indexOf("/"); at > 0; at = existing.indexOf("/", at + 1)) folders.add(existing.slice(0, at));
    foldersOf.set(existingPaths, folders);
  }
  if (folders.has(path)) return `cannot create ${path}: it is a folder in the repository`;
  for (let at = path.indexOf("/"); at > 0; at = path.indexOf("/", at + 1)) {
    if (existingPaths.has(path.slice(0, at))) return `cannot create ${path}: ${path.slice(0, at)} is a file in the repository`;
  }
  return null;
}

/** The proposal's resulting files; throws when it does not apply (guarded proposals always do). */
export function applyProposal(harness: Harness, proposal: Proposal, existingPaths?: ReadonlySet<string>): { path: string; content: string }[] {
  const applied = applyEdits(harness, proposal.edits, existingPaths);
  if (!applied.ok) throw new Error(`${proposal.title}: ${applied.reason}`);
  return applied.changes.map((change) => ({ path: change.path, content: change.after }));
}

/**
 * The guards a repository's configuration sets, on a harness and the paths of its tree: one
 * definition for proposing, for a retry's stored alternatives and for a person's push alike.
 */
export function guardOptions(config: SelfharnessConfig, snapshot: { harness: Harness; paths?: ReadonlySet<string> }, forbidden: string[]): GuardOptions {
  return {
    harness: snapshot.harness,
    harnessPaths: config.harness.paths,
    budget: config.propose.budget,
    forbidden,
    contentGuards: config.propose.guards,
    ...(snapshot.paths ? { existingPaths: snapshot.paths } : {}),
  };
}

/** Every rule a proposal must pass; the first broken one is the reason it is discarded. */
export function guardProposal(proposal: Proposal, options: GuardOptions): GuardResult {
  if (proposal.edits.length === 0) return { ok: false, reason: "no edits" };
  for (const edit of proposal.edits) {
    const path = normalisePath(edit.path);
    if (path === null) return { ok: false, reason: `path ${JSON.stringify(edit.path)} is not a relative path inside the repository` };
    if (isProtected(path)) return { ok: false, reason: `path ${path} is protected (CI configuration, tests, verifier and task files are never edited)` };
    if (!isHarnessPath(path, options.harnessPaths)) {
      return { ok: false, reason: `path ${path} is outside the harness paths (${options.harnessPaths.join(", ")})` };
    }
  }

  const applied = applyEdits(options.harness, proposal.edits, options.existingPaths);
  if (!applied.ok) return applied;
  const changes = applied.changes.filter((change) => change.before !== change.after);
  if (changes.length === 0) return { ok: false, reason: "the edits change nothing" };
  for (const change of changes) {
    const finding = contentFinding(change, options.contentGuards);
    if (finding) return { ok: false, reason: describeFinding(finding, change.path) };
  }

  const stats = measure(changes);
  const { maxFiles, maxChangedLines, maxAddedChars } = options.budget;
  if (stats.files > maxFiles) return { ok: false, reason: `too large: touches ${stats.files} files (budget ${maxFiles})` };
  if (stats.changedLines > maxChangedLines) {
    return { ok: false, reason: `too large: ${stats.changedLines} changed lines (budget ${maxChangedLines})` };
  }
  if (stats.addedChars > maxAddedChars) return { ok: false, reason: `too large: ${stats.addedChars} added characters (budget ${maxAddedChars})` };

  for (const change of changes) {
    const problem = syntaxProblem(change);
    if (problem) return { ok: false, reason: problem };
  }
  for (const change of changes) {
    const leaked = leakedName(change, options.forbidden);
    if (leaked) return { ok: false, reason: `leaks a benchmark detail: adds ${JSON.stringify(leaked)} to ${change.path}` };
  }
  return { ok: true, changes, stats };
}

/**
 * A key equal for proposals that make the same change, whatever their anchors, whitespace or case:
 * an earlier attempt re-proposed with a different `before` anchor is still a duplicate.
 */
export function changeKey(proposal: Proposal): string {
  const parts = proposal.edits.map((edit) => {
    const { removed, added } = trimCommon(edit.before, edit.after);
    return `${normalisePath(edit.path) ?? edit.path}|${normaliseText(removed)}|${normaliseText(added)}`;
  });
  return parts.sort().join("\n");
}

export interface SelectOptions extends GuardOptions {
  /** Earlier attempts for the same weakness; a candidate making the same change is dropped. */
  earlier: { title: string; reason: string; proposal?: Proposal }[];
  /** Paths the ranking prefers (the surface the mechanism is best fixed in). */
  preferredPaths?: string[];
}

/** Guards every candidate, drops duplicates, and ranks the survivors best first. */
export function selectCandidates(candidates: Proposal[], options: SelectOptions): { proposals: Proposal[]; discarded: DiscardedCandidate[] } {
  const discarded: DiscardedCandidate[] = [];
  const seen = new Map<string, string>();
  for (const attempt of options.earlier) {
    if (attempt.proposal) seen.set(changeKey(attempt.proposal), `an earlier attempt (“${attempt.title}”: ${attempt.reason})`);
  }
  const survivors: { proposal: Proposal; index: number }[] = [];
  candidates.forEach((proposal, index) => {
    const key = changeKey(proposal);
    const duplicateOf = seen.get(key);
    if (duplicateOf) {
      discarded.push({ title: proposal.title, reason: `duplicate of ${duplicateOf}` });
      return;
    }
    const result = guardProposal(proposal, options);
    if (!result.ok) {
      discarded.push({ title: proposal.title, reason: result.reason });
      return;
    }
    seen.set(key, `candidate “${proposal.title}”`);
    survivors.push({ proposal, index });
  });
  const preferred = new Set(options.preferredPaths ?? []);
  const onPreferred = (p: Proposal) => (p.edits.some((edit) => preferred.has(normalisePath(edit.path) ?? "")) ? 0 : 1);
  // Edits on the surface the mechanism lives in first; otherwise the proposer's own order of preference.
  survivors.sort((a, b) => onPreferred(a.proposal) - onPreferred(b.proposal) || a.index - b.index);
  return { proposals: survivors.map((s) => s.proposal), discarded };
}

/** A git-style unified diff (`a/` and `b/` prefixes) that `git apply` accepts. */
export function renderDiff(harness: Harness, proposal: Proposal, existingPaths?: ReadonlySet<string>): string {
  const applied = applyEdits(harness, proposal.edits, existingPaths);
  if (!applied.ok) throw new Error(`${proposal.title}: ${applied.reason}`);
  return applied.changes
    .filter((change) => change.before !== change.after)
    .map((change) => {
      const isNew = change.before === null;
      const patch = createTwoFilesPatch(isNew ? "/dev/null" : `a/${change.path}`, `b/${change.path}`, change.before ?? "", change.after, undefined, undefined, {
        headerOptions: FILE_HEADERS_ONLY,
        context: 3,
      });
      return `diff --git a/${change.path} b/${change.path}\n${isNew ? "new file mode 100644\n" : ""}${patch}`;
    })
    .join("");
}

/** POSIX, relative, inside the repository; null otherwise. */
export function normalisePath(raw: string): string | null {
  if (typeof raw !== "string" || raw.trim() === "" || raw.includes("\0")) return null;
  const posix = raw.trim().replace(/\\/g, "/").replace(/^(\.\/)+/, "");
  if (posix.startsWith("/") || /^[a-zA-Z]:/.test(posix)) return null;
  const segments = posix.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length === 0 || segments.includes("..")) return null;
  return segments.join("/");
}

function appendText(content: string, addition: string): string {
  if (content === "" || content.endsWith("\n")) return content + addition;
  return `${content}\n${addition}`;
}

/** Occurrences of `needle`, overlapping ones included, counted up to `limit` (a long file of repeats stays cheap). */
function occurrences(haystack: string, needle: string, limit: number): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0 && count < limit; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

function measure(changes: FileChange[]): EditStats {
  let changedLines = 0;
  let addedChars = 0;
  for (const change of changes) {
    for (const part of diffLines(change.before ?? "", change.after)) {
      if (part.added) addedChars += part.value.length;
      if (part.added || part.removed) changedLines += part.count ?? part.value.split("\n").length;
    }
  }
  return { files: changes.length, changedLines, addedChars };
}

/** A YAML or JSON file that no longer parses, or Markdown whose structure broke; null when fine. */
function syntaxProblem(change: FileChange): string | null {
  const lower = change.path.toLowerCase();
  if (change.after.includes("\0")) return `${change.path} would contain a NUL byte`;
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
    if (change.before !== null && yamlError(change.before) !== null) return null; // was already broken: not this edit's fault
    const error = yamlError(change.after);
    return error ? `breaks YAML: ${change.path} no longer parses (${error})` : null;
  }
  if (lower.endsWith(".json")) {
    if (change.before !== null && jsonError(change.before) !== null) return null;
    const error = jsonError(change.after);
    return error ? `breaks JSON: ${change.path} no longer parses (${error})` : null;
  }
  if (lower.endsWith(".md") || lower.endsWith(".markdown")) {
    if ((change.before === null || !hasOpenFence(change.before)) && hasOpenFence(change.after)) {
      return `breaks Markdown: ${change.path} would end inside an unclosed code fence`;
    }
  }
  return null;
}

function yamlError(text: string): string | null {
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  return first ? (first.message.split("\n")[0] ?? "parse error") : null;
}

function jsonError(text: string): string | null {
  try {
    JSON.parse(text);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** CommonMark fences: a closing fence uses the opening character, at least as many times. */
function hasOpenFence(markdown: string): boolean {
  let open: { char: string; length: number } | null = null;
  for (const line of markdown.split("\n")) {
    const match = /^ {0,3}(`{3,}|~{3,})(.*)$/.exec(line);
    if (!match) continue;
    const run = match[1]!;
    if (open === null) {
      if (run[0] === "`" && match[2]!.includes("`")) continue; // not a fence: backtick info strings cannot hold backticks
      open = { char: run[0]!, length: run.length };
    } else if (run[0] === open.char && run.length >= open.length && match[2]!.trim() === "") {
      open = null;
    }
  }
  return open !== null;
}

/** A forbidden name that occurs more often after the change than before (so the edit added it). */
function leakedName(change: FileChange, forbidden: string[]): string | null {
  const lower = change.after.toLowerCase();
  for (const name of forbidden) {
    if (!lower.includes(name.trim().toLowerCase())) continue; // cheap test before a regex per name
    const pattern = namePattern(name);
    if (!pattern) continue;
    const after = change.after.match(pattern)?.length ?? 0;
    const before = change.before?.match(pattern)?.length ?? 0;
    if (after > before) return name;
  }
  return null;
}

function namePattern(name: string): RegExp | null {
  const trimmed = name.trim();
  if (trimmed.length < 3) return null;
  const escaped = trimmed.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // Word-boundary aware for names made of letters, digits, `-`, `_`, `.` and `/`: `fix-git` does not match `prefix-gitignore`.
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "giu");
}

function trimCommon(before: string, after: string): { removed: string; added: string } {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { removed: before.slice(start, before.length - end), added: after.slice(start, after.length - end) };
}

function normaliseText(text: string): string {
  return text.toLowerCase().replace(/[\s`*_#>-]+/g, " ").trim();
}
