/**
 * Generated eval runs shaped and sized like real ones, for the ingest and mine benchmarks: a
 * Terminal-Bench 1 run (per trial results.json, commands.txt, tmux panes, the installed agent's log
 * as mini-swe-agent prints it, the test log, asciinema casts) and a Harbor job (result.json,
 * config.json, a Terminus-style ATIF trajectory, verifier files, the agent's setup output, a cast).
 * Sizes follow the real samples in ../shared/real-traces: logs and panes of hundreds of KB, casts of
 * MBs that no reader should ever open (written sparse: they cost no disk, but reading one costs time).
 *
 * Each corpus holds `RUNS` run folders of `TRIALS_PER_RUN` trials: one folder is the 1× corpus, all
 * of them the 4× corpus. Deterministic (seeded), cached under bench/.corpus/.
 */
import { existsSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32, type Random } from "../src/gate/random.js";

export const TRIALS_PER_RUN = 400;
export const RUNS = 4;
/** Bumped when a corpus's shape changes, so that a cached one is generated again. */
const VERSIONS = { tb1: 2, harbor: 1 } as const;
const here = dirname(fileURLToPath(import.meta.url));
const CORPUS_ROOT = join(here, ".corpus");

export interface Corpus {
  name: string;
  /** The 1× input (one run folder) and the 4× input (every run folder). */
  one: string[];
  four: string[];
}

const TASKS = Array.from({ length: 80 }, (_, i) => `${["fix", "build", "train", "configure", "crack", "write", "serve", "parse"][i % 8]}-${["git", "kernel", "model", "server", "hash", "compressor", "api", "logs", "cache", "db"][Math.floor(i / 8) % 10]}-${i}`);
const WORDS = "error warning compiling linking test passed failed module import file directory permission denied traceback line value config build install download resolved package version request response status header cache index table column row sample epoch loss accuracy model tensor".split(" ");
const COMMANDS = ["ls -la /app", "cat README.md", "git status", "git log --oneline -20", "python3 -m pytest -q tests/", "make -j2", "grep -rn 'TODO' src/", "pip install -r requirements.txt", "gcc -O2 -o main main.c", "curl -s localhost:8080/health", "tail -n 50 /var/log/app.log", "find / -name '*.conf' 2>/dev/null | head", "python3 solve.py > /app/output.txt", "sed -i 's/old/new/' config.ini"];

/** A pool of varied lines, picked at random: fast to write, and no two neighbouring lines alike. */
function linePool(random: Random, size: number): string[] {
  const pool: string[] = [];
  for (let i = 0; i < size; i++) {
    const n = 4 + Math.floor(random() * 14);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    pool.push(`${words.join(" ")} ${Math.floor(random() * 1e8).toString(16)}`);
  }
  return pool;
}

class Text {
  private readonly pool: string[];
  constructor(private readonly random: Random) {
    this.pool = linePool(random, 4096);
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** About `bytes` of text, in lines. */
  lines(bytes: number): string {
    const out: string[] = [];
    let size = 0;
    while (size < bytes) {
      const line = this.pool[this.int(this.pool.length)]!;
      out.push(line);
      size += line.length + 1;
    }
    return out.join("\n");
  }
  /** Terminal output with escapes and carriage-return redraws, as a tmux pipe captures it. */
  terminal(bytes: number): string {
    const out: string[] = [];
    let size = 0;
    while (size < bytes) {
      const roll = this.random();
      const line =
        roll < 0.15
          ? `\r0% [Working]\r${this.int(100)}% [${this.int(9)} Packages ${this.int(300)} kB/${this.int(900)} kB ${this.int(100)}%]\r                                   \rGet:${this.int(40)} http://deb.debian.org/debian bookworm InRelease [${this.int(200)} kB]\r`
          : roll < 0.2
            ? `\x1b[0;32m${this.pick(this.pool)}\x1b[0m\r`
            : `${this.pick(this.pool)}\r`;
      out.push(line);
      size += line.length + 1;
    }
    return out.join("\n");
  }
}

function sparse(path: string, bytes: number): void {
  writeFileSync(path, "");
  truncateSync(path, bytes);
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** What one generated trial shows: the mechanism planted in it, if any. */
type Plan = "pass" | "repeat" | "missing-file" | "claim" | "timeout" | "never-ran" | "plain-fail";

function plan(text: Text): Plan {
  const roll = text.int(100);
  return roll < 35 ? "pass" : roll < 47 ? "repeat" : roll < 57 ? "missing-file" : roll < 67 ? "claim" : roll < 77 ? "timeout" : roll < 85 ? "never-ran" : "plain-fail";
}

// --- Terminal-Bench 1 ----------------------------------------------------------------------------

const PROMPT = "\x1b[?2004hroot@9461765f32ee:/app# ";

/** mini-swe-agent's spinner while it waits for the model: rich redraws one line many times over. */
function spinner(text: Text): string {
  const frames = 2 + text.int(40);
  return `\x1b[?25l${Array.from({ length: frames }, (_, i) => `\x1b[32m${"\u280b\u2819\u2839\u2838"[i % 4]}\x1b[0m Waiting for the LM to respond...\r\x1b[2K`).join("")}`;
}

/** One step as mini-swe-agent 1.8 prints it through rich: coloured header, rule, spinner, "User:" and the observation. */
function miniStep(text: Text, n: number, command: string, output: string, code: number): string {
  return [
    `\x1b[92m${"\u2500".repeat(160)}`,
    spinner(text),
    `\x1b[1;31mmini-swe-agent\x1b[0m\x1b[31m (step \x1b[0m\x1b[1;31m${n}\x1b[0m\x1b[31m, \x1b[0m\x1b[1;31m$${(n * 0.031).toFixed(2)}\x1b[0m\x1b[31m):\x1b[0m\r`,
    `${spinner(text)}THOUGHT: ${text.lines(200 + text.int(600))}`,
    "",
    "```bash",
    command,
    "```",
    spinner(text),
    "\x1b[?25h\r\x1b[1A\x1b[2K\r",
    "\x1b[1;32mUser\x1b[0m:\r",
    `<returncode>${code}</returncode>`,
    "<output>",
    output,
    "</output>",
  ].join("\n");
}

/**
 * The installed agent's tmux log. In the real mini-swe-agent run (../shared/real-traces/tb1-mini-swe-agent,
 * 75 logs, median 184 KB) the installer's output before the launch is 45-100% of the log (median about
 * 80%): apt and pip progress, redrawn with carriage returns. The agent's steps follow, coloured by rich.
 */
function tb1AgentLog(text: Text, kind: Plan, instruction: string): string {
  const parts = [`${PROMPT}source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'; tmux wait -S done\r`, text.terminal(40_000 + text.int(260_000))];
  if (kind === "never-ran") {
    parts.push("error: externally-managed-environment\r", "INSTALL_SUCCESS\r", `${PROMPT}mini -m anthropic/claude-sonnet-4-0 -t '${instruction}' -y --exit-immediately; tmux wait -S done\r`, "bash: mini: command not found\r");
    return parts.join("\n");
  }
  parts.push("INSTALL_SUCCESS\r", `${PROMPT}mini -m anthropic/claude-sonnet-4-0 -t '${instruction}' -y --exit-immediately; tmux wait -S done\r`);
  const target = 10_000 + text.int(110_000);
  let size = 0;
  let n = 1;
  while (size < target) {
    const failing = kind === "repeat" && n > 4 && n < 8;
    const command = failing ? "cargo build --release" : text.pick(COMMANDS);
    const output = failing ? `error[E0432]: unresolved import\n${text.lines(500)}` : text.lines(500 + text.int(9000));
    const step = miniStep(text, n, command, output, failing ? 101 : 0);
    parts.push(step);
    size += step.length;
    n++;
  }
  if (kind === "claim") parts.push(`mini-swe-agent (step ${n}, $1.00):\nTHOUGHT: I have successfully completed the task. The task is complete.\n\n\`\`\`bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n\`\`\``);
  else if (kind !== "timeout") parts.push(`mini-swe-agent (step ${n}, $1.00):\nTHOUGHT: Done.\n\n\`\`\`bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n\`\`\``);
  return parts.join("\n");
}

function tb1Trial(root: string, run: string, task: string, attempt: number, text: Text): Record<string, unknown> {
  const name = `${task}.${attempt}-of-5.${run}`;
  const dir = join(root, task, name);
  const kind = plan(text);
  const instruction = `Make ${task} work: ${text.lines(200)}`.replace(/'/g, "");
  const passed = kind === "pass";
  const parser: Record<string, string> = { test_output_exists: kind === "missing-file" ? "failed" : "passed", test_result_correct: passed ? "passed" : "failed" };
  const results = {
    id: `${run}-${name}`,
    trial_name: name,
    task_id: task,
    instruction,
    is_resolved: passed,
    failure_mode: kind === "timeout" ? "agent_timeout" : "unset",
    parser_results: parser,
    recording_path: `${run}/${task}/${name}/sessions/agent.cast`,
    total_input_tokens: kind === "never-ran" ? 0 : 100_000 + text.int(400_000),
    total_output_tokens: kind === "never-ran" ? 0 : 5_000 + text.int(20_000),
    trial_started_at: "2025-08-14T03:40:22.193662+00:00",
    trial_ended_at: "2025-08-14T04:25:04.286613+00:00",
    agent_started_at: "2025-08-14T04:08:07.655029+00:00",
    agent_ended_at: "2025-08-14T04:23:04.070928+00:00",
  };
  write(join(dir, "results.json"), JSON.stringify(results, null, 4));
  write(
    join(dir, "commands.txt"),
    [`['asciinema rec --stdin /logs/agent.cast', 'Enter']`, `['clear', 'Enter']`, `["source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'", 'Enter']`, `["mini -m anthropic/claude-sonnet-4-0 -t '${instruction}' -y --exit-immediately", 'Enter']`, `['bash ', '/tests/run-tests.sh', 'Enter']`].join("\n"),
  );
  const log = tb1AgentLog(text, kind, instruction);
  write(join(dir, "sessions", "agent.log"), log);
  write(join(dir, "panes", "post-agent.txt"), log.slice(-(40_000 + text.int(160_000))));
  const failure = kind === "missing-file" ? "FileNotFoundError: [Errno 2] No such file or directory: '/app/output.txt'" : "AssertionError: expected 0.62, got 0.41";
  const tests = `${text.terminal(10_000 + text.int(200_000))}\n============ short test summary info ============\n${passed ? "" : `FAILED tests/test_outputs.py::test_result_correct - ${failure}\nE   ${failure}\n`}`;
  write(join(dir, "sessions", "tests.log"), tests);
  write(join(dir, "panes", "post-test.txt"), tests.slice(-20_000));
  sparse(join(dir, "sessions", "agent.cast"), 2_000_000 + text.int(4_000_000));
  sparse(join(dir, "sessions", "tests.cast"), 500_000 + text.int(1_000_000));
  return { ...results, instruction: undefined };
}

function writeTb1Run(dir: string, run: string, random: Random): void {
  const text = new Text(random);
  const results: Record<string, unknown>[] = [];
  for (let i = 0; i < TRIALS_PER_RUN; i++) {
    const task = TASKS[i % TASKS.length]!;
    results.push(tb1Trial(dir, run, task, 1 + Math.floor(i / TASKS.length), text));
  }
  write(join(dir, "results.json"), JSON.stringify({ id: run, results, pass_at_k: {}, n_resolved: results.filter((r) => r.is_resolved).length, accuracy: 0.35 }, null, 4));
  write(join(dir, "run_metadata.json"), JSON.stringify({ run_id: run, agent_name: "mini-swe-agent", model_name: "anthropic/claude-sonnet-4-0", dataset_name: "terminal-bench-core", n_attempts: 5 }, null, 4));
  write(join(dir, "tb.lock"), "{}\n");
}

// --- Harbor --------------------------------------------------------------------------------------

function harborTrajectory(text: Text, name: string, kind: Plan, instruction: string): string {
  const steps: unknown[] = [
    { step_id: 1, source: "system", message: `You are an AI assistant tasked with solving command-line tasks in a Linux environment.\n${text.lines(1500)}` },
    { step_id: 2, source: "user", message: instruction },
  ];
  const target = 80_000 + text.int(420_000);
  let size = 0;
  let s = 3;
  let prompt = 0;
  while (size < target) {
    const failing = kind === "repeat" && s > 5 && s < 9;
    const command = failing ? "cargo build --release" : text.pick(COMMANDS);
    const output = `New Terminal Output:\n\nroot@c0ffee:/app# ${command}\n${failing ? "error[E0432]: unresolved import\n" : ""}${text.lines(400 + text.int(8000))}\n${failing ? "exit code: 101" : ""}`;
    prompt += 2000 + text.int(3000);
    const step = {
      step_id: s,
      timestamp: new Date(Date.UTC(2026, 2, 2, 10, 0, s % 60)).toISOString(),
      source: "agent",
      model_name: "example/coder-large",
      message: `Analysis: ${text.lines(300)}\nPlan: run ${command}`,
      reasoning_content: text.lines(600),
      tool_calls: [{ tool_call_id: `call_${s}`, function_name: "bash_command", arguments: { keystrokes: `${command}\n`, duration: 1.0 } }],
      observation: { results: [{ source_call_id: `call_${s}`, content: output }] },
      metrics: { prompt_tokens: prompt, completion_tokens: 150 + text.int(400), cost_usd: 0.001 },
    };
    steps.push(step);
    size += output.length + 1500;
    s++;
  }
  if (kind === "claim" || kind === "pass" || kind === "missing-file") {
    steps.push({ step_id: s, source: "agent", message: kind === "claim" ? "I have successfully completed the task. The task is complete." : "Done.", tool_calls: [{ tool_call_id: `call_${s}`, function_name: "mark_task_complete", arguments: {} }] });
  }
  return JSON.stringify({ schema_version: "ATIF-v1.6", session_id: name, agent: { name: "terminus-2", version: "2.0.0", model_name: "example/coder-large" }, steps, final_metrics: { total_prompt_tokens: prompt, total_completion_tokens: s * 300 } }, null, 2);
}

function harborTrial(jobDir: string, job: string, index: number, text: Text): void {
  const task = TASKS[index % TASKS.length]!;
  const name = `${task}__${index.toString(36).padStart(7, "0")}`;
  const dir = join(jobDir, name);
  const kind = plan(text);
  const instruction = `Make ${task} work: ${text.lines(300)}`;
  const reward = kind === "pass" ? 1 : 0;
  const exception =
    kind === "timeout"
      ? { exception_type: "AgentTimeoutError", exception_message: "Agent execution timed out after 900.0 seconds", exception_traceback: text.lines(3000) }
      : kind === "never-ran"
        ? { exception_type: "RuntimeError", exception_message: "Agent setup failed with exit code 1", exception_traceback: text.lines(3000) }
        : null;
  const result = {
    id: `${job}-${index}`,
    task_name: task,
    trial_name: name,
    trial_uri: `file:///home/runner/work/agent/jobs/${job}/${name}`,
    task_id: { path: `tasks/${task}` },
    task_checksum: `sha-${task}`,
    config: { task: { path: `tasks/${task}` }, trial_name: name, trials_dir: `jobs/${job}`, timeout_multiplier: 1, agent: { name: "terminus-2", model_name: "example/coder-large", override_timeout_sec: null, kwargs: {} }, environment: { type: "docker", delete: true }, verifier: { disable: false }, job_id: job },
    agent_info: { name: "terminus-2", version: "2.0.0", model_info: { name: "coder-large", provider: "example" } },
    agent_result: { n_input_tokens: kind === "never-ran" ? 0 : 100_000 + text.int(400_000), n_output_tokens: kind === "never-ran" ? 0 : 5_000 + text.int(20_000), cost_usd: 0.4 },
    verifier_result: kind === "never-ran" ? null : { rewards: { reward } },
    exception_info: exception,
    started_at: "2026-03-02T10:00:00.000000",
    finished_at: "2026-03-02T10:20:00.000000",
    agent_execution: { started_at: "2026-03-02T10:02:00.000000", finished_at: kind === "timeout" ? "2026-03-02T10:17:00.000000" : "2026-03-02T10:09:00.000000" },
  };
  write(join(dir, "result.json"), JSON.stringify(result, null, 4));
  write(join(dir, "config.json"), JSON.stringify(result.config, null, 4));
  write(join(dir, "agent", "setup", "stdout.txt"), kind === "never-ran" ? `${text.terminal(30_000)}\nerror: externally-managed-environment\n` : text.terminal(20_000 + text.int(60_000)));
  write(join(dir, "agent", "command-0", "command.txt"), "terminus-2 run");
  sparse(join(dir, "agent", "recording.cast"), 2_000_000 + text.int(4_000_000));
  if (kind !== "never-ran") {
    write(join(dir, "agent", "trajectory.json"), harborTrajectory(text, name, kind, instruction));
    const failure = kind === "missing-file" ? "FileNotFoundError: [Errno 2] No such file or directory: '/app/output.txt'" : "AssertionError: expected 0.62, got 0.41";
    const tests = [
      { name: "test_outputs.py::test_output_exists", status: kind === "missing-file" ? "failed" : "passed", ...(kind === "missing-file" ? { message: failure } : {}) },
      { name: "test_outputs.py::test_result_correct", status: reward ? "passed" : "failed", ...(reward ? {} : { message: failure }) },
    ];
    write(join(dir, "verifier", "ctrf.json"), JSON.stringify({ results: { tool: { name: "pytest" }, summary: { tests: 2 }, tests } }, null, 2));
    write(join(dir, "verifier", "reward.txt"), `${reward}\n`);
    write(join(dir, "verifier", "test-stdout.txt"), `${text.terminal(10_000 + text.int(150_000))}\n${reward ? "" : `FAILED tests/test_outputs.py::test_result_correct - ${failure}\n`}`);
  }
}

function writeHarborJob(dir: string, job: string, random: Random): void {
  const text = new Text(random);
  for (let i = 0; i < TRIALS_PER_RUN; i++) harborTrial(dir, job, i, text);
  write(join(dir, "result.json"), JSON.stringify({ id: job, n_total_trials: TRIALS_PER_RUN, stats: { n_trials: TRIALS_PER_RUN, n_errors: 0 } }, null, 4));
  write(join(dir, "config.json"), JSON.stringify({ job_name: job, n_attempts: 1, agents: [{ name: "terminus-2" }] }, null, 4));
}

// -------------------------------------------------------------------------------------------------

function generate(name: keyof typeof VERSIONS, seed: number, writeRun: (dir: string, run: string, random: Random) => void, runName: (k: number) => string, parent: string): Corpus {
  const root = join(CORPUS_ROOT, `${name}-v${VERSIONS[name]}-s${seed}`);
  const runs = Array.from({ length: RUNS }, (_, k) => join(root, parent, runName(k)));
  if (!existsSync(join(root, "COMPLETE"))) {
    rmSync(root, { recursive: true, force: true });
    for (const [k, dir] of runs.entries()) {
      process.stderr.write(`bench: generating ${name} run ${k + 1} of ${RUNS} ...\n`);
      writeRun(dir, runName(k), mulberry32(seed + k));
    }
    writeFileSync(join(root, "COMPLETE"), `${new Date().toISOString()}\n`);
  }
  return { name, one: runs.slice(0, 1), four: runs };
}

export function tb1Corpus(seed = 20260417): Corpus {
  return generate("tb1", seed, writeTb1Run, (k) => `2025-08-1${k}__19-44-27`, "runs");
}

export function harborCorpus(seed = 20260418): Corpus {
  return generate("harbor", seed, writeHarborJob, (k) => `2026-03-0${k + 1}__10-00-00`, "jobs");
}
