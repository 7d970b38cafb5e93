import { describe, expect, it } from "vitest";
import { isLongOperation, isVerification } from "../../src/mine/actions.js";
import { laterOnLine } from "../../src/text/lines.js";

const CURL = /\bcurl\b/;
const LOCAL = /\b(?:localhost|127\.0\.0\.1)\b/;
const oneRegex = /\bcurl\b[^\n]*\b(?:localhost|127\.0\.0\.1)\b/;

describe("laterOnLine", () => {
  it("says what keyword[^\\n]*then says", () => {
    for (const text of [
      "curl -s http://localhost:8080/health",
      "curl -s https://example.org && echo localhost",
      "echo localhost; curl -s https://example.org",
      "curl -s https://example.org\necho localhost",
      "curlocalhost",
      "libcurl localhost",
      "curl curl 127.0.0.1",
      "",
      "x\ncurl http://127.0.0.1:3000/",
    ]) {
      expect(laterOnLine(text, CURL, LOCAL), JSON.stringify(text)).toBe(oneRegex.test(text));
    }
  });

  it("reads a hostile line once, not once per keyword", () => {
    const start = performance.now();
    expect(laterOnLine("curl ".repeat(200_000), CURL, LOCAL)).toBe(false);
    expect(laterOnLine(`${"curl ".repeat(200_000)}\n`.repeat(5), CURL, LOCAL)).toBe(false);
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});

describe("the detectors' keyword checks", () => {
  it("tell installs, downloads and local requests apart, in linear time on a hostile command", () => {
    const long = (command: string) => isLongOperation({ command });
    expect([long("pip install pandas"), long("apt-get update && apt-get install -y curl"), long("curl -sSLo x.tgz https://e.org/x"), long("curl -s https://e.org"), long("pip --version")]).toEqual([true, true, true, false, false]);
    expect([isVerification({ command: "curl -s localhost:8080" }), isVerification({ command: "curl -s https://e.org" })]).toEqual([true, false]);
    const start = performance.now();
    for (const word of ["curl ", "pip ", "apt-get "]) {
      long(word.repeat(40_000));
      isVerification({ command: word.repeat(40_000) });
    }
    expect(performance.now() - start).toBeLessThan(5_000);
  });
});
