/**
 * A stateful GitHub REST API on 127.0.0.1 for end-to-end tests: git data, contents, pulls, issues,
 * labels, comments, reactions, check runs, permissions, workflows, runs, dispatches, artifacts (the zip
 * behind a 302 to a second "blob host"), installation tokens and the auto-merge GraphQL mutation.
 *
 *   const gh = await FakeGitHub.start({ appId, publicKey });
 *   const repo = gh.addRepo("octo-org", "agent", { files: { "AGENTS.md": "..." } });
 *   new Probot({ appId, privateKey, baseUrl: gh.url, ... });
 *   ...
 *   expect(gh.violations).toEqual([]);   // every request matched GitHub's OpenAPI description
 *   await gh.stop();
 *
 * Every request is checked against `@octokit/openapi` before it is served: an undocumented route is
 * answered 404, an invalid body or query 422, and both are recorded in `violations`. Requests the
 * fake does not implement are answered 501 and recorded too, so nothing passes silently.
 * Faults are queued per route (`gh.fault("GET /repos/{owner}/{repo}/pulls", { status: 502 }, 3)`)
 * and consumed one per valid matching request: an error instead of the answer, a reset connection,
 * a delay, or (`afterHandling`) the request takes effect and its answer is lost.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createPublicKey, randomBytes, verify, type KeyObject } from "node:crypto";
import type { AddressInfo } from "node:net";
import { checkRequest } from "../github/openapi.js";
import { GitStore, type FlatTree } from "./fake-git.js";
import { routes, type Handler } from "./fake-github-routes.js";

export type Fault = (
  /** `afterHandling`: the request takes effect, then the answer is lost to an error (a 502 after a write). */
  | { status: 500 | 502 | 503 | 404 | 410 | 422; message?: string; afterHandling?: boolean }
  | { status: 403; retryAfter: number }
  | { reset: "before-body" | "mid-body" }
  | { delayMs: number }
  /** The answer starts and then stalls: no more bytes until the client gives up. */
  | { stall: true }
) & {
  /** Only requests whose address matches take the fault (e.g. one label's issue listing); others pass. */
  only?: (url: URL) => boolean;
};

export interface RecordedRequest {
  method: string;
  /** The route template (`/repos/{owner}/{repo}/pulls`) or `BLOB` for the blob host. */
  route: string;
  path: string;
  status: number;
  body?: unknown;
  at: number;
}

export interface User {
  login: string;
  id: number;
  type: "User" | "Bot";
}

export interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface Comment {
  id: number;
  issue: number;
  body: string;
  user: User;
  created_at: string;
  updated_at: string;
  reactions: { content: string; user: User }[];
}

export interface Issue {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  labels: string[];
  user: User;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull?: {
    head: string;
    base: string;
    /** Head sha kept when the branch is deleted. */
    lastHeadSha: string;
    merged: boolean;
    draft: boolean;
    autoMerge: { expectedHeadOid: string; mergeMethod: string } | null;
  };
}

export interface CheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  external_id: string | null;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  started_at: string | null;
  completed_at: string | null;
  history: { status: string; conclusion: string | null }[];
}

export interface Workflow {
  id: number;
  name: string;
  path: string;
  /** `run-name` of the workflow: what a dispatched run displays. */
  runName?: (inputs: Record<string, string>) => string;
}

export interface WorkflowRun {
  id: number;
  workflow_id: number;
  name: string;
  display_title: string;
  run_number: number;
  run_attempt: number;
  event: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  head_branch: string;
  head_sha: string;
  /** `owner/repo` the head commit lives in; another repository for runs from forks. */
  head_repository: string;
  pull_requests: number[];
  inputs?: Record<string, string>;
  actor: User;
  created_at: string;
  updated_at: string;
}

export interface Artifact {
  id: number;
  run_id: number;
  name: string;
  bytes: Buffer;
  expired: boolean;
  created_at: string;
}

export interface Dispatch {
  workflow: number;
  ref: string;
  inputs: Record<string, string>;
  runId: number;
  returnRunDetails: boolean;
}

export class FakeRepo {
  readonly git = new GitStore();
  readonly issues = new Map<number, Issue>();
  readonly labels = new Map<string, Label>();
  readonly comments = new Map<number, Comment>();
  readonly checkRuns = new Map<number, CheckRun>();
  readonly workflows = new Map<number, Workflow>();
  readonly runs = new Map<number, WorkflowRun>();
  readonly artifacts = new Map<number, Artifact>();
  readonly dispatches: Dispatch[] = [];
  readonly permissions = new Map<string, "admin" | "write" | "read" | "none">();
  /** Pushes to open pull requests' branches, for the `pull_request.synchronize` deliveries GitHub would send. */
  readonly pushes: { number: number; before: string; after: string; by: User }[] = [];
  nextIssue = 1;

  constructor(
    readonly gh: FakeGitHub,
    readonly id: number,
    readonly owner: string,
    readonly name: string,
    readonly defaultBranch: string,
    readonly installationId: number,
  ) {}

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** A person's commit on a branch (created when missing) with these files changed; returns its sha. */
  commit(branch: string, files: Record<string, string>, message = "Update files", by: User = this.gh.user("mona")): string {
    const parent = this.git.refs.get(`heads/${branch}`) ?? null;
    const commit = this.git.commitFiles(files, parent, message);
    this.setRef(`heads/${branch}`, commit.sha, by);
    return commit.sha;
  }

  /** Moves a ref; deleting a PR's head branch closes the PR, as on GitHub. */
  setRef(ref: string, sha: string | null, by: User = this.gh.user("mona")): void {
    if (sha === null) this.git.refs.delete(ref);
    else this.git.refs.set(ref, sha);
    if (!ref.startsWith("heads/")) return;
    const branch = ref.slice("heads/".length);
    for (const issue of this.issues.values()) {
      if (issue.pull?.head !== branch || issue.state !== "open") continue;
      if (sha === null) {
        issue.state = "closed";
        issue.closed_at = this.gh.now();
      } else {
        // A new head invalidates native auto-merge pinned to the old one.
        if (issue.pull.autoMerge && issue.pull.autoMerge.expectedHeadOid !== sha) issue.pull.autoMerge = null;
        if (issue.pull.lastHeadSha !== sha) this.pushes.push({ number: issue.number, before: issue.pull.lastHeadSha, after: sha, by });
        issue.pull.lastHeadSha = sha;
      }
    }
  }

  file(ref: string, path: string): string | undefined {
    const sha = this.git.resolve(ref);
    const entry = sha ? this.git.filesAt(sha).get(path) : undefined;
    return entry ? this.git.blobs.get(entry.sha)!.toString("utf8") : undefined;
  }

  filesAt(ref: string): FlatTree {
    return this.git.filesAt(this.git.resolve(ref)!);
  }

  addWorkflow(file: string, name: string, runName?: Workflow["runName"]): Workflow {
    const workflow: Workflow = { id: this.gh.nextId(), name, path: `.github/workflows/${file}`, runName };
    this.workflows.set(workflow.id, workflow);
    return workflow;
  }

  workflow(idOrFile: string | number): Workflow | undefined {
    for (const w of this.workflows.values()) {
      if (String(w.id) === String(idOrFile) || w.path === `.github/workflows/${idOrFile}` || w.path === idOrFile) return w;
    }
    return undefined;
  }

  addRun(workflow: Workflow, run: Partial<WorkflowRun> & { head_branch: string }): WorkflowRun {
    const id = run.id ?? this.gh.nextId();
    const full: WorkflowRun = {
      id,
      workflow_id: workflow.id,
      name: workflow.name,
      display_title: run.display_title ?? workflow.name,
      run_number: this.runs.size + 1,
      run_attempt: 1,
      event: "push",
      status: "completed",
      conclusion: "failure",
      head_sha: run.head_sha ?? this.git.resolve(run.head_branch)!,
      head_repository: this.fullName,
      pull_requests: [],
      actor: this.gh.user("mona"),
      created_at: this.gh.now(),
      updated_at: this.gh.now(),
      ...run,
    };
    this.runs.set(id, full);
    return full;
  }

  addArtifact(runId: number, name: string, bytes: Buffer, options: { expired?: boolean } = {}): Artifact {
    const artifact: Artifact = { id: this.gh.nextId(), run_id: runId, name, bytes, expired: options.expired ?? false, created_at: this.gh.now() };
    this.artifacts.set(artifact.id, artifact);
    return artifact;
  }

  /** Finishes a queued or running run, as the workflow would when its job ends. */
  completeRun(runId: number, conclusion: "success" | "failure" | "cancelled"): WorkflowRun {
    const run = this.runs.get(runId);
    if (!run) throw new Error(`fake GitHub: no run ${runId} in ${this.fullName}`);
    run.status = "completed";
    run.conclusion = conclusion;
    run.updated_at = this.gh.now();
    return run;
  }

  pulls(): Issue[] {
    return [...this.issues.values()].filter((i) => i.pull);
  }

  commentsOn(issue: number): Comment[] {
    return [...this.comments.values()].filter((c) => c.issue === issue);
  }

  /** A merged pull request keeps the head it was merged at, as GitHub's does, whatever its branch does later. */
  headSha(issue: Issue): string {
    if (issue.pull!.merged) return issue.pull!.lastHeadSha;
    return this.git.refs.get(`heads/${issue.pull!.head}`) ?? issue.pull!.lastHeadSha;
  }
}

export interface FakeGitHubOptions {
  appId: number;
  /** The app's public key: installation token requests must carry a JWT it verifies. */
  publicKey: string | KeyObject;
  appSlug?: string;
}

export class FakeGitHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly requests: RecordedRequest[] = [];
  /** Requests GitHub would refuse, or that this fake does not implement: a passing test has none. */
  readonly violations: string[] = [];
  readonly tokens = new Map<string, number>();
  readonly users = new Map<string, User>();
  readonly appSlug: string;
  private readonly faults = new Map<string, Fault[]>();
  private clock = Date.parse("2026-01-05T12:00:00Z");
  private readonly publicKey: KeyObject;
  private api!: Server;
  private blobHost!: Server;
  url = "";
  blobUrl = "";

  private constructor(readonly options: FakeGitHubOptions) {
    this.appSlug = options.appSlug ?? "selfharness";
    this.publicKey = typeof options.publicKey === "string" ? createPublicKey(options.publicKey) : options.publicKey;
  }

  static async start(options: FakeGitHubOptions): Promise<FakeGitHub> {
    const gh = new FakeGitHub(options);
    gh.api = createServer((req, res) => void gh.serveApi(req, res));
    gh.blobHost = createServer((req, res) => void gh.serveBlob(req, res));
    gh.url = await listen(gh.api);
    gh.blobUrl = await listen(gh.blobHost);
    return gh;
  }

  async stop(): Promise<void> {
    await Promise.all([close(this.api), close(this.blobHost)]);
  }

  /** Ids are unique across every fake in the process, as GitHub's are: the app's dedupe keys on them. */
  nextId(): number {
    return ++idCounter;
  }

  /** A GitHub timestamp; the fake clock moves one second per call so orderings are stable. */
  now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d+Z$/, "Z");
  }

  user(login: string, type: User["type"] = "User"): User {
    let user = this.users.get(login);
    if (!user) {
      user = { login, id: this.nextId(), type };
      this.users.set(login, user);
    }
    return user;
  }

  get botUser(): User {
    return this.user(`${this.appSlug}[bot]`, "Bot");
  }

  addRepo(owner: string, name: string, options: { defaultBranch?: string; files?: Record<string, string>; installationId?: number } = {}): FakeRepo {
    const repo = new FakeRepo(this, this.nextId(), owner, name, options.defaultBranch ?? "main", options.installationId ?? 4242);
    this.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    repo.commit(repo.defaultBranch, options.files ?? { "README.md": `# ${name}\n` }, "Initial commit");
    return repo;
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  /** Queues `times` copies of a fault on a route: `"GET /repos/{owner}/{repo}/pulls"` or `"BLOB"`. */
  fault(route: string, fault: Fault, times = 1): void {
    const queue = this.faults.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(route, queue);
  }

  /** GitHub recovers: every queued fault is dropped. */
  clearFaults(): void {
    this.faults.clear();
  }

  pendingFaults(route?: string): number {
    if (route) return this.faults.get(route)?.length ?? 0;
    return [...this.faults.values()].reduce((n, q) => n + q.length, 0);
  }

  /** Requests made on a route, e.g. `count("POST", "/repos/{owner}/{repo}/pulls")`. */
  count(method: string, route: string): number {
    return this.requests.filter((r) => r.method === method && r.route === route).length;
  }

  private takeFault(route: string, url?: URL): Fault | undefined {
    const queue = this.faults.get(route);
    const next = queue?.[0];
    if (!queue || !next || (next.only && (!url || !next.only(url)))) return undefined;
    queue.shift();
    if (queue.length === 0) this.faults.delete(route);
    return next;
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://localhost");
    const raw = await readBody(req).catch(() => Buffer.alloc(0));
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return this.answer(res, { method, route: "?", path: url.pathname, body: raw.toString("utf8") }, 400, { message: "Problems parsing JSON" });
      }
    }
    const match = matchRoute(method, url.pathname);
    const record = { method, route: match?.route.template ?? "?", path: url.pathname + url.search, body };

    // GraphQL is outside the REST description; its handler checks the mutation itself.
    if (match?.route.template !== "/graphql") {
      try {
        // GitHub accepts slashes in a ref or file path; the description names them as one segment.
        checkRequest(method, (match ? match.normalizedPath : url.pathname) + url.search, body);
      } catch (error) {
        const message = (error as Error).message;
        this.violations.push(message);
        const status = message.includes("has no operation") ? 404 : 422;
        return this.answer(res, record, status, { message, documentation_url: "https://docs.github.com/rest" });
      }
    }
    if (!match) {
      this.violations.push(`fake GitHub does not implement ${method} ${url.pathname}`);
      return this.answer(res, record, 501, { message: `not implemented in the fake: ${method} ${url.pathname}` });
    }
    const fault = this.takeFault(`${method} ${match.route.template}`, url);
    if (fault && "afterHandling" in fault && fault.afterHandling) return this.dispatch(req, res, record, match, url, body, fault);
    if (fault) return this.applyFault(res, record, fault, () => this.dispatch(req, res, record, match, url, body));
    return this.dispatch(req, res, record, match, url, body);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, record: Omit<RecordedRequest, "status" | "at">, match: RouteMatch, url: URL, body: unknown, lostAnswer?: Fault): Promise<void> {
    const auth = req.headers.authorization ?? "";
    const appRoute = match.route.template === "/app" || match.route.template.startsWith("/app/") || match.route.template === "/repos/{owner}/{repo}/installation";
    if (appRoute ? !this.verifyJwt(auth) : !this.tokens.has(auth.replace(/^(token|bearer) /i, ""))) {
      this.violations.push(`${record.method} ${record.path}: missing or wrong ${appRoute ? "app JWT" : "installation token"} (${auth.slice(0, 20) || "none"})`);
      return this.answer(res, record, 401, { message: "Bad credentials" });
    }
    const repo = match.params.owner && match.params.repo ? this.repo(match.params.owner, match.params.repo) : undefined;
    if (match.params.owner && !repo) return this.answer(res, record, 404, { message: "Not Found" });
    const accept = String(req.headers.accept ?? "");
    try {
      const result = await match.route.handler({ gh: this, repo: repo!, params: match.params, query: url.searchParams, body: (body ?? {}) as Record<string, unknown>, accept, path: url.pathname });
      if (lostAnswer) return void this.applyFault(res, record, lostAnswer, async () => undefined);
      this.answer(res, record, result.status, result.body, result.headers);
    } catch (error) {
      this.violations.push(`fake GitHub crashed on ${record.method} ${record.path}: ${(error as Error).stack}`);
      this.answer(res, record, 500, { message: "fake GitHub error" });
    }
  }

  private applyFault(res: ServerResponse, record: Omit<RecordedRequest, "status" | "at">, fault: Fault, proceed: () => Promise<void>): Promise<void> | void {
    if ("delayMs" in fault) return new Promise<void>((resolve) => setTimeout(() => void proceed().then(resolve), fault.delayMs));
    if ("stall" in fault) {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": "1048576" });
      res.write("PK");
      return new Promise<void>((resolve) =>
        res.on("close", () => {
          this.requests.push({ ...record, status: 0, at: Date.now() });
          resolve();
        }),
      );
    }
    if ("reset" in fault) {
      this.requests.push({ ...record, status: 0, at: Date.now() });
      if (fault.reset === "mid-body") {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": "4096" });
        res.write('{"partial": "');
        setTimeout(() => res.destroy(), 5);
      } else {
        res.destroy();
      }
      return;
    }
    if (fault.status === 403) {
      return this.answer(res, record, 403, {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
      }, { "retry-after": String(fault.retryAfter) });
    }
    const messages: Record<number, string> = { 404: "Not Found", 410: "Gone", 422: "Validation Failed", 500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
    return this.answer(res, record, fault.status, { message: fault.message ?? messages[fault.status] });
  }

  private answer(res: ServerResponse, record: Omit<RecordedRequest, "status" | "at">, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    this.requests.push({ ...record, status, at: Date.now() });
    if (res.destroyed) return;
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-github-request-id": randomBytes(4).toString("hex"), ...headers });
    res.end(text);
  }

  /** The blob host: `/artifacts/{id}?sig=...`, what a 302 from the artifact zip route points at. */
  private async serveBlob(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const record = { method: req.method ?? "GET", route: "BLOB", path: url.pathname };
    const m = /^\/([^/]+)\/([^/]+)\/artifacts\/(\d+)$/.exec(url.pathname);
    const artifact = m ? this.repo(m[1]!, m[2]!)?.artifacts.get(Number(m[3])) : undefined;
    if (req.headers.authorization) this.violations.push(`BLOB ${url.pathname}: the GitHub token was sent to the blob host`);
    if (!artifact || url.searchParams.get("sig") !== signature(artifact.id)) {
      this.requests.push({ ...record, status: 403, at: Date.now() });
      res.writeHead(403, { "content-type": "application/xml" }).end("<Error><Code>AuthenticationFailed</Code></Error>");
      return;
    }
    const fault = this.takeFault("BLOB");
    if (fault && "reset" in fault) {
      this.requests.push({ ...record, status: 0, at: Date.now() });
      res.writeHead(200, { "content-type": "application/zip", "content-length": String(artifact.bytes.length) });
      if (fault.reset === "mid-body") res.write(artifact.bytes.subarray(0, Math.floor(artifact.bytes.length / 2)));
      setTimeout(() => res.destroy(), 5);
      return;
    }
    if (fault && "status" in fault) {
      this.requests.push({ ...record, status: fault.status, at: Date.now() });
      res.writeHead(fault.status).end();
      return;
    }
    if (fault && "stall" in fault) return this.applyFault(res, record, fault, async () => undefined);
    this.requests.push({ ...record, status: 200, at: Date.now() });
    res.writeHead(200, { "content-type": "application/zip", "content-length": String(artifact.bytes.length) });
    res.end(artifact.bytes);
  }

  blobLocation(repo: FakeRepo, artifactId: number): string {
    return `${this.blobUrl}/${repo.owner}/${repo.name}/artifacts/${artifactId}?sig=${signature(artifactId)}`;
  }

  private verifyJwt(auth: string): boolean {
    const token = auth.replace(/^bearer /i, "");
    const parts = token.split(".");
    if (parts.length !== 3) return false;
    const [header, payload, sig] = parts as [string, string, string];
    try {
      const ok = verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), this.publicKey, Buffer.from(sig, "base64url"));
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { iss?: unknown; exp?: number };
      return ok && String(claims.iss) === String(this.options.appId);
    } catch {
      return false;
    }
  }

  issueToken(installationId: number): string {
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    this.tokens.set(token, installationId);
    return token;
  }
}

let idCounter = 1000;

function signature(id: number): string {
  return Buffer.from(`artifact-${id}`).toString("base64url");
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  /** Index of a parameter that may contain slashes (a file path or a ref). */
  greedy: string | null;
  handler: Handler;
}

interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  /** The path with slashes inside a greedy parameter encoded, as Octokit sends it. */
  normalizedPath: string;
}

const GREEDY = new Set(["path", "ref", "branch"]);
let compiled: Route[] | null = null;

function compileRoutes(): Route[] {
  if (compiled) return compiled;
  compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, template] = key.split(" ") as [string, string];
    const names: string[] = [];
    let greedy: string | null = null;
    const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, name: string) => {
      names.push(name);
      // Only a last parameter may swallow slashes (`/contents/{path}`, `/git/refs/{ref}`).
      if (GREEDY.has(name) && template.endsWith(`{${name}}`)) {
        greedy = name;
        return "(.+)";
      }
      return "([^/]+)";
    });
    return { method, template, pattern: new RegExp(`^${source}$`), names, greedy, handler };
  });
  // Literal routes first: `/git/refs` must not be read as `/git/refs/{ref}`.
  compiled.sort((a, b) => b.template.replace(/\{[^}]+\}/g, "").length - a.template.replace(/\{[^}]+\}/g, "").length);
  return compiled;
}

function matchRoute(method: string, pathname: string): RouteMatch | null {
  const path = pathname.length > 1 ? pathname.replace(/\/$/, "") : pathname;
  for (const route of compileRoutes()) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    const normalizedPath = route.greedy ? route.template.replace(/\{([^}]+)\}/g, (_x, name: string) => encodeURIComponent(params[name]!)) : path;
    return { route, params, normalizedPath };
  }
  return null;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
