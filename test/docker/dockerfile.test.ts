/**
 * No Docker engine here, so the Dockerfile is checked against the package itself: what each stage
 * copies exists (and .dockerignore lets it through), what the image runs is what `npm run build`
 * produces, the production stage installs every package the built code imports, it runs as a
 * non-root user listening on all interfaces, and its health check asks a path the app and the
 * worker both serve.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op!.toUpperCase() === "FROM") {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: m![1]!, name: m![2] ?? String(stages.length), instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op: op!.toUpperCase(), args });
    }
  }
  return stages;
}

const stages = parseDockerfile(read("Dockerfile"));
const stage = (name: string) => stages.find((s) => s.name === name)!;
const ignored = read(".dockerignore")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const runtime = stages.at(-1)!;
const tsBuild = JSON.parse(read("tsconfig.build.json")) as { compilerOptions: { outDir: string; rootDir: string } };

/** COPY's sources and destination, and the stage it copies from. */
function copies(s: Stage): { from: string | null; sources: string[]; dest: string }[] {
  return s.instructions
    .filter((i) => i.op === "COPY")
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length) ?? null;
      const paths = words.filter((w) => !w.startsWith("--"));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1)! };
    });
}

/** The built file for a source file: what tsc writes for it with tsconfig.build.json. */
function builtFrom(distPath: string): string {
  const relative = distPath.replace(/^\.?\//, "").replace(new RegExp(`^${tsBuild.compilerOptions.outDir}/`), "");
  return join(tsBuild.compilerOptions.rootDir, relative.replace(/\.js$/, ".ts"));
}

describe("the Dockerfile", () => {
  it("has a build stage, a production-dependencies stage and a runtime stage on Node 20", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "deps", "runtime"]);
    for (const s of stages) expect(s.image).toMatch(/^node:20[-.]/);
    expect(stage("build").instructions.filter((i) => i.op === "RUN").map((i) => i.args)).toContain("npm ci --ignore-scripts && npm run build");
    expect(stage("deps").instructions.find((i) => i.op === "RUN")!.args).toMatch(/^npm ci --omit=dev\b/);
  });

  it("copies only files that exist and that .dockerignore lets into the build context", () => {
    for (const s of stages) {
      for (const copy of copies(s).filter((c) => c.from === null)) {
        for (const source of copy.sources) {
          expect(existsSync(join(root, source)), `${s.name}: COPY ${source}`).toBe(true);
          expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${s.name}: ${source} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
  });

  it("takes from earlier stages only what they make: dist/ from the build, node_modules from the production install", () => {
    const fromStages = copies(runtime).filter((c) => c.from !== null);
    expect(fromStages.map((c) => `${c.from} ${c.sources.join(" ")}`).sort()).toEqual(["build /app/dist", "deps /app/node_modules"]);
    expect(stage("build").instructions.find((i) => i.op === "WORKDIR")!.args).toBe("/app");
    expect(tsBuild.compilerOptions.outDir).toBe("dist");
    // The build stage has everything the build reads: the compiler's inputs and the CLI's bundler script.
    const built = copies(stage("build")).flatMap((c) => c.sources);
    for (const needed of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src", "scripts/build-cli.ts", "scripts/bundle-options.ts"]) expect(built).toContain(needed);
    const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain("scripts/build-cli.ts");
  });

  it("runs what the build produces: the Probot app, and `selfharness worker` from the same image", () => {
    const cmd = JSON.parse(runtime.instructions.find((i) => i.op === "CMD")!.args) as string[];
    expect(cmd).toEqual(["node", "node_modules/probot/bin/probot.js", "run", "./dist/github/index.js"]);
    const probot = JSON.parse(read("node_modules/probot/package.json")) as { bin: Record<string, string> };
    expect(join("node_modules/probot", probot.bin.probot!)).toBe(cmd[1]);
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.dependencies.probot).toBeDefined();
    expect(pkg.scripts.start).toBe(`probot run ${cmd[3]}`);
    expect(existsSync(join(root, builtFrom(cmd[3]!)))).toBe(true);
    // The worker: bin/selfharness.cjs is copied and loads dist/github/worker.js.
    expect(copies(runtime).some((c) => c.sources.includes("bin"))).toBe(true);
    expect(read("bin/selfharness.cjs")).toContain('"../dist/github/worker.js"');
    expect(existsSync(join(root, builtFrom("dist/github/worker.js")))).toBe(true);
    // Probot's setup mode reads app.yml from the working directory.
    expect(copies(runtime).some((c) => c.sources.includes("app.yml"))).toBe(true);
  });

  it("installs in the production stage every package the built code imports", () => {
    const pkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(join(root, dir))) {
        const path = join(dir, name);
        if (statSync(join(root, path)).isDirectory()) walk(path);
        else if (path.endsWith(".ts") && !path.startsWith("src/action/")) {
          for (const m of read(path).matchAll(/^import (?!type )[^;]*?from "([^".][^"]*)";/gms)) {
            const spec = m[1]!;
            if (spec.startsWith("node:")) continue;
            imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
          }
        }
      }
    };
    walk("src");
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((name) => !pkg.dependencies[name]).sort()).toEqual([]);
  });

  it("runs as a non-root user, listens on all interfaces, and checks health on /ping, which the app and the worker serve", () => {
    const user = runtime.instructions.filter((i) => i.op === "USER").at(-1)!.args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const env = runtime.instructions.filter((i) => i.op === "ENV").map((i) => i.args).join(" ");
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    const check = runtime.instructions.find((i) => i.op === "HEALTHCHECK")!.args;
    const path = /\/ping\b/.exec(check)?.[0];
    expect(path).toBe("/ping");
    expect(read("node_modules/probot/lib/server/handlers/ping.js")).toContain(`path === "${path}"`);
    expect(read("src/github/worker.ts")).toContain(`req.url === "${path}"`);
  });
});
