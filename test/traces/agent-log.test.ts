import { describe, expect, it } from "vitest";
import { readAgentLog } from "../../src/traces/agent-log.js";
import { terminalText } from "../../src/traces/terminal.js";

// Shaped after a Terminal-Bench 1 `sessions/agent.log` of mini-swe-agent 1.8: the tmux pipe of the
// agent's terminal, with colours, spinner redraws, 160-column rules and lines rich wrapped at 160.
const ESC = "\u001b";
const RULE = `${ESC}[92m${"─".repeat(160)}${ESC}[0m`;
const spin = (n: number) => `${ESC}[32m⠙${ESC}[0m Waiting for the LM to respond...\r${ESC}[2K`.repeat(n);
const said = (n: number, thought: string, command: string | string[]) => [
  `${ESC}[1;31mmini-swe-agent${ESC}[0m${ESC}[31m (step ${ESC}[0m${ESC}[1;31m${n}${ESC}[0m${ESC}[31m, $0.0${n}):${ESC}[0m\r`,
  `${spin(3)}THOUGHT: ${thought}\r`,
  "\r",
  ...(Array.isArray(command) ? command : [command]).flatMap((c) => ["```bash\r", `${c}\r`, "```\r"]),
  spin(2),
];
const step = (n: number, thought: string, command: string | string[]) => [...said(n, thought, command), "\r", `${ESC}[1;32mUser${ESC}[0m:\r`];
const prompt = "root@4f1c2a9be0d1:/app#";

function miniLog(...steps: string[][]): string {
  return [
    `${ESC}[?2004h${prompt} source /installed-agent/install-agent.sh && echo 'INSTALL_SUCCESS'; tmux wait -S done\r`,
    "WARNING: Running pip as the 'root' user can result in broken permissions\r",
    "INSTALL_SUCCESS\r",
    `${ESC}[?2004h${prompt} mini -m provider/model -t 'Write the answer to /app/answer.txt' -y --exit-immediately; tmux wait -S done\r`,
    "👋 This is mini-swe-agent version 1.8.1.\r",
    ...steps.flat(),
  ].join("\n");
}

// Wrapped lines: rich breaks at the last space before column 160 and leaves the space at the break,
// or cuts a line as wide as the console.
const longThought = `${"I will look at the data first and then decide how to compute the answer. ".repeat(3).slice(0, 150)} `;
const longCommand = `ls -la /app && cat /app/${"d".repeat(160 - "ls -la /app && cat /app/".length - "data.csv |".length)}data.csv |`;

describe("mini-swe-agent transcripts", () => {
  const log = readAgentLog(
    miniLog(
      step(1, `THOUGHT: ${longThought}\r\nThen I write it.`.slice("THOUGHT: ".length), `${longCommand}\r\nhead -5`),
      ["<returncode>0</returncode>\r", "<output>\r", "data.csv\r", "a,b\r", "</output>\r", RULE],
      step(2, "I need pandas.", "pip install pandas torch"),
      [
        "The last command <command>pip install pandas torch</command> timed out and has been killed.\r",
        "The output of the command was:\r",
        " <output>\r",
        "Downloading torch-2.8.0-cp313-manylinux_2_28_x86_64.whl (887.9 MB)\r",
        "</output>\r",
        "Please try another command and make sure to avoid those requiring interactive input.\r",
        RULE,
      ],
      step(3, "Two things at once.", ["echo a", "echo b"]),
      ["Please always provide EXACTLY ONE action in triple backticks, found 2 actions.\r", RULE],
      step(4, "The answer is written. The task is complete.", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
      ["\r", "Saved trajectory to '/root/.config/mini-swe-agent/last_mini_run.traj.json'\r", `${prompt} \r`, "exit\r"],
    ),
    "mini",
  );

  it("reads each step's thought, command, output and return code, unwrapping the UI's line breaks", () => {
    expect(log).toMatchObject({ kind: "mini-swe-agent", launched: true, submitted: true, cutOff: false, stopReason: "submitted" });
    const [agent, tool] = log.steps;
    expect(agent!.text).toBe(`THOUGHT: ${longThought}Then I write it.`);
    expect(longCommand).toHaveLength(160);
    expect(agent!.calls).toEqual([{ name: "bash", args: { command: `${longCommand} head -5` }, command: `${longCommand} head -5` }]);
    expect(tool).toMatchObject({ source: "tool", exitCode: 0, output: "data.csv\na,b" });
    expect(log.preamble).toContain("INSTALL_SUCCESS");
  });

  it("marks a command the harness killed at its time limit, and a rejected reply as running nothing", () => {
    const killed = log.steps[3]!;
    expect(killed).toMatchObject({ source: "tool", timedOut: true, error: "the command timed out and was killed by the harness" });
    expect(killed.output).toContain("887.9 MB");
    expect(log.steps[4]).toMatchObject({ source: "agent", calls: [] });
    expect(log.steps[5]!.error).toMatch(/^the harness rejected the response: Please always provide EXACTLY ONE action/);
    expect(log.steps[6]!.calls?.[0]?.command).toBe("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT");
    for (const s of log.steps) expect(JSON.stringify(s)).not.toContain(ESC);
  });

  it("does not take a command's output that prints the harness's words for a rejection", () => {
    const ran = readAgentLog(
      miniLog(step(1, "Look at the validator.", "grep -n format_error validate.py"), ["<returncode>0</returncode>\r", "<output>\r", "12:    raise ValueError('format_error')\r", "</output>\r", RULE]),
      "mini",
    );
    expect(ran.steps[0]!.calls?.[0]?.command).toBe("grep -n format_error validate.py");
    expect(ran.steps[1]).toMatchObject({ source: "tool", exitCode: 0, output: "12:    raise ValueError('format_error')" });
    expect(ran.steps[1]!.error).toBeUndefined();
  });

  it("takes a rejected reply that held the submit command for no submission", () => {
    const log = readAgentLog(
      miniLog(
        step(1, "Answer and submit at once.", ["echo 42 > /app/answer.txt", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"]),
        ["Please always provide EXACTLY ONE action in triple backticks, found 2 actions.\r", RULE],
        said(2, "One at a time.", "echo 42 > /app/answer.txt"),
      ),
      "mini",
    );
    expect(log).toMatchObject({ submitted: false, cutOff: true, stopReason: "cut off while a command was running" });
    expect(log.steps[0]).toMatchObject({ source: "agent", calls: [] });
    expect(log.steps[1]!.error).toMatch(/^the harness rejected the response/);
  });

  it("sees a run cut off while a command was running", () => {
    const cut = readAgentLog(miniLog(said(1, "Install first.", "pip install datasets")), "mini");
    expect(cut).toMatchObject({ submitted: false, cutOff: true, stopReason: "cut off while a command was running" });
    expect(cut.steps.map((s) => s.source)).toEqual(["agent"]);
  });

  it("tells an agent that never started from one that crashed at start-up", () => {
    const missing = readAgentLog(`${prompt} mini -m m -t 'task' -y\r\nbash: mini: command not found\r\n${prompt} \r\n`, "mini");
    expect(missing).toMatchObject({ kind: "mini-swe-agent", steps: [], stopReason: "never started: bash: mini: command not found" });
    const panel = `╭${"─".repeat(60)} Traceback (most recent call last) ${"─".repeat(63)}╮`;
    const crash = readAgentLog([`${prompt} mini -m m -t 'task' -y`, panel, `│ /usr/local/lib/python3.13/site-packages/aiohttp/helpers.py:6 in <module>${" ".repeat(85)}│`, `╰${"─".repeat(158)}╯`, "ModuleNotFoundError: No module named 'cgi'", `${prompt} `].join("\r\n"), "mini");
    expect(crash.stopReason).toBe("crashed before its first step: ModuleNotFoundError: No module named 'cgi'");
    const notLaunched = readAgentLog(`${prompt} source /installed-agent/install-agent.sh\r\n85% [Working]\r\n`, "mini");
    expect(notLaunched).toMatchObject({ launched: false, steps: [], problems: ["the launch of mini never appears in the log"] });
  });

  it("counts a provider error as ending the run only when nothing follows it", () => {
    const retried = readAgentLog(
      miniLog(
        ["Retrying minisweagent.models.litellm_model.LitellmModel._query in 4.0 seconds as it raised RateLimitError: litellm.RateLimitError: rate limit exceeded\r"],
        step(1, "The rate limiting of nginx is set to 10r/s.", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
      ),
      "mini",
    );
    expect(retried.providerErrors).toEqual([{ line: expect.stringMatching(/RateLimitError/), final: false }]);
    const ended = readAgentLog(miniLog(step(1, "Look.", "ls"), ["<returncode>0</returncode>\r", "a\r"], ["litellm.InternalServerError: AnthropicError - {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}\r"]), "mini");
    expect(ended.providerErrors.map((e) => e.final)).toEqual([true]);
  });
});

describe("a long installer output before the launch", () => {
  // Shaped after the installer output that makes up most of a real mini-swe-agent log (45-100% in the
  // Terminal-Bench 1 sample): apt's redrawn progress, pip's bars of box-drawing characters.
  const installer = (lines: number) =>
    Array.from({ length: lines }, (_, i) =>
      i % 3 === 0
        ? `(Reading database ... \r${[5, 10, 50, 95, 100].map((p) => `(Reading database ... ${p}%\r`).join("")}(Reading database ... ${i} files and directories currently installed.)\r`
        : i % 3 === 1
          ? `   ${ESC}[38;5;237m${"━".repeat(40)}${ESC}[0m ${ESC}[32m${i % 97}.4/97.4 MB${ESC}[0m ${ESC}[31m10.5 MB/s${ESC}[0m eta ${ESC}[36m0:00:00${ESC}[0m\r`
          : `Unpacking libpackage-${i}:amd64 (12.2.0-14+deb12u1) over (12.2.0-14) ...\r`,
    ).join("\n");
  const steps = [step(1, "Look first.", "ls"), ["<returncode>0</returncode>\r", "<output>\r", "a.txt\r", "</output>\r", RULE], step(2, "Done.", "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT")];
  const launchLine = `${ESC}[?2004h${prompt} mini -m provider/model -t 'Write the answer' -y --exit-immediately; tmux wait -S done\r`;
  const withInstaller = (output: string, launch = launchLine) => [`${ESC}[?2004h${prompt} source /installed-agent/install-agent.sh; tmux wait -S done\r`, output, "INSTALL_SUCCESS\r", launch, ...steps.flat()].join("\n");

  it("keeps the same last lines of it and the same steps as a short one", () => {
    const long = withInstaller(installer(6000));
    expect(long.length).toBeGreaterThan(500_000);
    const read = readAgentLog(long, "mini");
    const short = readAgentLog(withInstaller(installer(30)), "mini");
    expect(read.steps).toEqual(short.steps);
    expect(read).toMatchObject({ kind: "mini-swe-agent", launched: true, submitted: true });
    // The kept tail is the tail of the whole installer output as a terminal shows it.
    const shown = terminalText(long.slice(0, long.indexOf(launchLine))).trimEnd();
    expect(read.preamble.length).toBeGreaterThan(4000);
    expect(shown.endsWith(read.preamble.slice(-4000))).toBe(true);
    expect(read.preamble).toMatch(/^\.\.\.\[\d+ chars truncated\]\.\.\.\n/);
  });

  it("reads a file's bytes as it reads their text: multi-byte characters, bad bytes and NULs around the window", () => {
    const text = withInstaller(installer(3000));
    const at = Buffer.byteLength(text.slice(0, text.indexOf(launchLine)));
    const bytes = Buffer.from(text);
    // Bad UTF-8 and NUL bytes in the installer output, before and inside the window.
    for (const offset of [1000, at - 20_000, at - 9000, at - 100]) bytes.set([0xff, 0xc3, 0x00, 0xe2, 0x94], bytes.indexOf(0x20, offset));
    const fromText = readAgentLog(bytes.toString("utf8").replace(/\0/g, ""), "mini");
    const fromBytes = readAgentLog(bytes, "mini");
    expect(fromBytes.steps).toEqual(fromText.steps);
    expect(fromBytes.preamble.slice(-4000)).toBe(fromText.preamble.slice(-4000));
    expect(fromBytes.preamble).toContain("\ufffd");
    expect(fromBytes.preamble).not.toContain("\0");
  });

  it("finds a launch that an escape splits in the raw text", () => {
    const split = readAgentLog(withInstaller(installer(3000), `${ESC}[?2004h${prompt} mi${ESC}[0mni -m provider/model -t 'x' -y\r`), "mini");
    expect(split).toMatchObject({ launched: true, submitted: true });
    expect(split.steps).toEqual(readAgentLog(withInstaller(installer(30)), "mini").steps);
  });

  it("looks at each line once however many hold a launcher's name", () => {
    const noisy = [`${ESC}]0;root@host${ESC}\\`, ...Array.from({ length: 100_000 }, (_, i) => (i % 2 ? "mini mini openhands" : `x@y mini-${i}`)), launchLine, ...steps.flat()].join("\n");
    const start = performance.now();
    expect(readAgentLog(noisy, "mini").launched).toBe(true);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe("OpenHands logs", () => {
  const openhands = (end: string[]) =>
    [
      `${prompt} openhands --max-iterations 100 --task 'Fix the network'`,
      "21:48:20 - openhands:INFO: agent_controller.py:672 - [Agent Controller 1f] Setting agent(CodeActAgent) state from AgentState.LOADING to AgentState.RUNNING",
      "21:48:22 - ACTION",
      "**CmdRunAction (source=EventSource.AGENT, is_input=False)**",
      "THOUGHT: Let me look at the resolver.",
      "COMMAND:",
      "cat /etc/resolv.conf",
      "21:48:23 - OBSERVATION",
      "**CmdOutputObservation (source=EventSource.AGENT, exit code=0, metadata={})**",
      "nameserver 127.0.0.11",
      ...end,
    ].join("\n");

  it("reads actions, observations and the final state", () => {
    const log = readAgentLog(openhands(["21:50:01 - openhands:INFO: agent_controller.py:672 - [Agent Controller 1f] Setting agent(CodeActAgent) state from AgentState.RUNNING to AgentState.FINISHED"]), "openhands");
    expect(log).toMatchObject({ kind: "openhands", submitted: true, stopReason: "finished" });
    expect(log.steps).toMatchObject([
      { source: "agent", text: "Let me look at the resolver.", calls: [{ command: "cat /etc/resolv.conf" }] },
      { source: "tool", exitCode: 0, output: "nameserver 127.0.0.11" },
    ]);
  });

  it("says why the agent stopped: rate limited, stuck in a loop, or still running", () => {
    const limited = readAgentLog(openhands(["21:50:01 - openhands:INFO: agent_controller.py:672 - Setting agent(CodeActAgent) state from AgentState.RUNNING to AgentState.RATE_LIMITED"]), "openhands");
    expect(limited.stopReason).toBe("rate limited by the model provider");
    // Nothing follows the rate limit: the provider ended this run (the reader marks the trial invalid).
    expect(limited.providerErrors).toEqual([{ line: expect.stringContaining("AgentState.RATE_LIMITED"), final: true }]);
    expect(readAgentLog(openhands(["21:50:01 - openhands:ERROR: loop.py:32 - AgentStuckInLoopError: Agent got stuck in a loop"]), "openhands").stopReason).toBe("stuck in a loop");
    expect(readAgentLog(openhands([]), "openhands")).toMatchObject({ cutOff: true, stopReason: "ended without a final state" });
  });
});

describe("logs of unknown agents and bad input", () => {
  it("reads an unknown agent's session at its shell prompts", () => {
    const log = readAgentLog([`${prompt} coder --task 'x'`, `${prompt} make test`, "2 failed", "exit code: 2", `${prompt} `].join("\n"), "coder");
    expect(log.kind).toBe("unknown");
    expect(log.steps).toMatchObject([{ calls: [{ command: "make test" }], exitCode: 2 }]);
  });

  it("reads what it can from junk, escapes and truncation, and never throws", () => {
    const junk = `${prompt} mini -t x\n${"\ufffd\u0007\u0000".repeat(400)}\n${ESC}]0;title${ESC}[31mred\n${ESC}[2`;
    const log = readAgentLog(junk, "mini");
    expect(log.steps).toEqual([]);
    expect(log.startup).toContain("[binary output omitted]");
    expect(log.startup).not.toContain(ESC);
    expect(() => readAgentLog("```bash\n".repeat(1000), "mini")).not.toThrow();
  });

  it("reads 1 MB of hostile text in linear time", () => {
    const hostile = [
      `${prompt} mini -t x\n`,
      `${ESC}[${"0".repeat(200_000)}`,
      `mini-swe-agent (step 1, $0.01):\n\`\`\`${" ".repeat(200_000)}x y\n`,
      "```bash\n" + "a".repeat(200_000),
      `\nUser:\n${"<returncode>".repeat(20_000)}`,
      `\n${"─".repeat(200_000)}\n`,
      `${"RateLimitError ".repeat(10_000)}\n${"x: No such file or directory".repeat(5_000)}`,
    ].join("");
    expect(hostile.length).toBeGreaterThan(1_000_000);
    const start = performance.now();
    readAgentLog(hostile, "mini");
    readAgentLog(hostile.replaceAll("\n", " "), "mini");
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe("mini-swe-agent observation markup", () => {
  // What a global replace of the markup removes, which the reader does where each `<` stands.
  const MARKUP = /<returncode>\s*-?\d+\s*<\/returncode>|<\/?(?:output|output_head|output_tail|warning|elided_chars)>/g;
  const PIECES = ["<", "<<", "<returncode>", "</returncode>", "returncode>", " ", "\n", "0", "-1", "<output>", "</output>", "<output_head>", "</output_tail>", "<warning>", "</elided_chars>", "x", "<out", "put>"];

  it("removes exactly what a global replace of the markup removes", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 2000; round++) {
      const body = Array.from({ length: 1 + Math.floor(next() * 40) }, () => PIECES[Math.floor(next() * PIECES.length)]!).join("");
      const log = readAgentLog(`root@h:/app# mini -t 'x' -y\nmini-swe-agent (step 1, $0.1):\nTHOUGHT: look\n\`\`\`bash\nls\n\`\`\`\nUser:\n${body}`, "mini");
      // The observation's lines as the reader has them (a blank line is a rule, and dropped).
      const text = terminalText(body);
      expect(log.steps[1]?.output, JSON.stringify(body)).toBe(text.replace(MARKUP, "").trim());
    }
  });
});
