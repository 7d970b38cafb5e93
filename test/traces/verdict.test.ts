import { describe, expect, it } from "vitest";
import { decideVerdict } from "../../src/traces/verdict.js";

const failedTest = [{ name: "test_output", status: "failed" as const }];
const passedTests = [{ name: "test_a", status: "passed" as const }, { name: "test_b", status: "passed" as const }];

describe("decideVerdict", () => {
  it("passes on reward >= 1 and fails below, keeping the float reward", () => {
    expect(decideVerdict({ reward: 1 })).toEqual({ outcome: "pass", reward: 1 });
    expect(decideVerdict({ reward: 0.75 })).toEqual({ outcome: "fail", reward: 0.75 });
    expect(decideVerdict({ reward: 0 })).toEqual({ outcome: "fail", reward: 0 });
  });

  it("judges from parsed tests when there is no reward", () => {
    expect(decideVerdict({ reward: null, tests: passedTests }).outcome).toBe("pass");
    expect(decideVerdict({ reward: null, tests: [...passedTests, ...failedTest] }).outcome).toBe("fail");
  });

  it("treats a timeout as the agent's own result: a timed-out trial whose verifier passed is a pass", () => {
    expect(decideVerdict({ reward: 1, failureMode: "agent_timeout" })).toEqual({ outcome: "pass", reward: 1 });
    expect(decideVerdict({ reward: 0, failureMode: "AgentTimeoutError", exception: { type: "AgentTimeoutError", message: "timed out" } })).toEqual({ outcome: "fail", reward: 0 });
  });

  it("marks a trial without reward and without tests invalid (no verdict)", () => {
    expect(decideVerdict({ reward: null })).toEqual({ outcome: "invalid", reward: null, infra: { kind: "no-verdict", detail: "no reward and no parsed tests" } });
    const withException = decideVerdict({ reward: null, exception: { type: "NonZeroAgentExitCodeError", message: "exit 137\nmore" } });
    expect(withException.infra).toEqual({ kind: "no-verdict", detail: "no reward and no parsed tests (NonZeroAgentExitCodeError: exit 137)" });
  });

  it("marks a verifier that could not bootstrap invalid, quoting the bootstrap error", () => {
    const verdict = decideVerdict({
      reward: null,
      failureMode: "parse_error",
      verifierOutput: "Reading package lists... Done\n/tests/setup.sh: line 10: /root/.local/bin/env: No such file or directory\n/tests/setup.sh: line 18: uv: command not found\n",
    });
    expect(verdict).toEqual({ outcome: "invalid", reward: null, infra: { kind: "verifier", detail: "parse_error: verifier could not run: /tests/setup.sh: line 18: uv: command not found" } });
    expect(decideVerdict({ reward: null, failureMode: "test_timeout" }).infra).toEqual({ kind: "verifier-timeout", detail: "test_timeout: verifier produced no test results" });
    expect(decideVerdict({ reward: null, exception: { type: "RewardFileNotFoundError" } }).infra?.kind).toBe("verifier");
  });

  it("marks an agent that never ran invalid: zero tokens and its own executable not found", () => {
    const verdict = decideVerdict({
      reward: 0,
      tests: [...passedTests, ...failedTest],
      tokens: { input: 0, output: 0 },
      agentCommand: "mini",
      agentOutput: "root@x:/app# mini -m model -t 'task'\nbash: mini: command not found\n",
    });
    expect(verdict).toEqual({ outcome: "invalid", reward: 0, infra: { kind: "agent-install", detail: "mini: command not found (agent install failed, zero tokens)" } });
  });

  it("recognises the agent by its name and an install failure without a launch command", () => {
    expect(decideVerdict({ reward: 0, tokens: { input: 0 }, agentName: "openhands", agentOutput: "bash: openhands: command not found" }).outcome).toBe("invalid");
    const pip = decideVerdict({ reward: 0, agentOutput: "error: externally-managed-environment\n× This environment is externally managed" });
    expect(pip.infra).toEqual({ kind: "agent-install", detail: "agent install failed: error: externally-managed-environment" });
    expect(decideVerdict({ reward: null, exception: { type: "AgentSetupTimeoutError", message: "setup took too long" } }).infra).toEqual({
      kind: "agent-install",
      detail: "AgentSetupTimeoutError: setup took too long",
    });
  });

  it("does not blame infra when the agent ran: tokens spent, steps taken, or a command of the task missing", () => {
    const missingTool = { reward: 0, agentCommand: "mini", agentOutput: "bash: uv: command not found" };
    expect(decideVerdict({ ...missingTool, tokens: { input: 0, output: 0 } }).outcome).toBe("fail");
    expect(decideVerdict({ reward: 0, tokens: { input: 1200, output: 80 }, agentCommand: "mini", agentOutput: "bash: mini: command not found" }).outcome).toBe("fail");
    expect(decideVerdict({ reward: 0, agentActed: true, agentOutput: "error: externally-managed-environment" }).outcome).toBe("fail");
  });

  it("marks environment start errors invalid, and keeps a verdict that exists despite one as infra noise", () => {
    const start = decideVerdict({ reward: null, exception: { type: "EnvironmentStartTimeoutError", message: "docker compose up timed out" } });
    expect(start).toEqual({ outcome: "invalid", reward: null, infra: { kind: "environment", detail: "EnvironmentStartTimeoutError: docker compose up timed out" } });
    const noise = decideVerdict({ reward: 1, exception: { type: "DockerTeardownError" } });
    expect(noise).toEqual({ outcome: "pass", reward: 1, infra: { kind: "environment", detail: "DockerTeardownError" } });
  });

  it("tells an agent that never launched or crashed at start-up from one that ran", () => {
    expect(decideVerdict({ reward: 0, tests: failedTest, agentActed: false, agentStart: { launched: false } }).infra).toEqual({
      kind: "agent-install",
      detail: "the agent's install was still running when its time ran out: the launch never ran",
    });
    expect(decideVerdict({ reward: 0, tests: failedTest, agentActed: false, agentStart: { launched: true, crash: "crashed before its first step: ModuleNotFoundError: No module named 'cgi'" } }).infra).toEqual({
      kind: "agent-start",
      detail: "the agent crashed before its first step: ModuleNotFoundError: No module named 'cgi'",
    });
    expect(decideVerdict({ reward: 0, tests: failedTest, agentActed: true, agentStart: { launched: true } }).outcome).toBe("fail");
  });

  it("marks a failure the model provider or a full disk ended invalid, and leaves a pass a pass", () => {
    const provider = "litellm.RateLimitError: rate limit exceeded";
    expect(decideVerdict({ reward: 0, tests: failedTest, agentActed: true, providerError: provider })).toEqual({
      outcome: "invalid",
      reward: 0,
      infra: { kind: "provider", detail: `the model provider failed and the run ended: ${provider}` },
    });
    expect(decideVerdict({ reward: 1, agentActed: true, providerError: provider }).outcome).toBe("pass");
    expect(decideVerdict({ reward: 0, exception: { type: "NonZeroAgentExitCodeError", message: "anthropic.RateLimitError: Error code: 429" } }).infra?.kind).toBe("provider");
    expect(decideVerdict({ reward: 0, tests: failedTest, agentActed: true, verifierOutput: "OSError: [Errno 28] No space left on device" }).infra).toEqual({ kind: "disk-full", detail: "OSError: [Errno 28] No space left on device" });
  });

  it("reads Harbor's plain RuntimeErrors by their message: environment start, agent setup", () => {
    expect(decideVerdict({ reward: null, exception: { type: "RuntimeError", message: "Docker compose command failed for environment x. Command: docker compose up" } }).infra?.kind).toBe("environment");
    expect(decideVerdict({ reward: null, exception: { type: "RuntimeError", message: "Agent setup failed with exit code 127. See logs" } }).infra).toEqual({
      kind: "agent-install",
      detail: "RuntimeError: Agent setup failed with exit code 127. See logs",
    });
  });

  it("keeps a trial the agent broke its own failure: a package lock it left held stopped the verifier", () => {
    const lock = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2355 (apt)";
    expect(decideVerdict({ reward: null, failureMode: "parse_error", agentActed: true, agentLeftPackageLock: true, verifierOutput: lock })).toMatchObject({ outcome: "fail", infra: { kind: "agent-broke-verifier" } });
    expect(decideVerdict({ reward: null, failureMode: "parse_error", agentActed: true, verifierOutput: lock }).outcome).toBe("invalid");
  });

  it("reads a verifier's ASCII bytes as it reads their text: the same first matching line of each kind", () => {
    const logs = [
      "Reading package lists... Done\n/tests/setup.sh: line 10: /root/.local/bin/env: No such file or directory\n/tests/setup.sh: line 18: uv: command not found\r\n",
      "collected 0 items\nE   ModuleNotFoundError: No module named 'numpy'\nNo module named 'pandas'\n",
      "pip: Temporary failure in name resolution\ncurl: (6) Could not resolve host: pypi.org",
      "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 2355 (apt)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend)",
      `${"x".repeat(300)} OSError: [Errno 28] No space left on device ${"y".repeat(300)}`,
      "Permission denied\nConnection refused",
      "nothing telling here\n",
      "",
    ];
    const shapes = [
      { reward: null, failureMode: "parse_error" },
      { reward: null, failureMode: "test_timeout", agentActed: true, agentLeftPackageLock: true },
      { reward: 0, tests: failedTest, agentActed: true },
      { reward: null, exception: { type: "VerifierTimeoutError" } },
    ];
    for (const log of logs) {
      for (const shape of shapes) {
        const asText = decideVerdict({ ...shape, verifierOutput: log });
        expect(decideVerdict({ ...shape, verifierOutput: Buffer.from(log) }), log.slice(0, 40)).toEqual(asText);
      }
    }
    expect(decideVerdict({ ...shapes[0]!, verifierOutput: Buffer.from(logs[1]!) }).infra?.detail).toBe("parse_error: verifier could not run: E   ModuleNotFoundError: No module named 'numpy'");
  });
});
