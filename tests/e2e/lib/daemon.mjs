// daemon.mjs - the e2e harness: start a real pgfleetd on a free loopback
// port with a fresh data directory, hand out SDK clients and raw signed
// requests bound to it, and stop it checking that it exits cleanly.
//
// Binary: $PGFLEETD if set, else build/pgfleetd-san (ASan/UBSan) when it
// exists, else build/pgfleetd. The daemon is ready when its TCP port accepts
// connections; its first start writes DATA_DIR/credentials.json (root tenant).
//
// stop() sends SIGTERM and asserts exit code 0 and a stderr free of
// sanitizer reports ("AddressSanitizer", "LeakSanitizer", "runtime error").

import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import tencentcloud from "tencentcloud-sdk-nodejs";

import { buildTc3, buildV1, exchange } from "./http.mjs";

export * from "./http.mjs";

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "../../..");

const READY_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 15000;
const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:/;

export const PostgresClient = tencentcloud.postgres.v20170312.Client;

let current = null; // the daemon started last, for crash notes in assertions

/** crashNote() after giving a dying daemon up to `ms` to be reaped (a
 *  dropped connection is often seen just before the exit). */
export async function crashNoteSoon(ms = 500) {
  if (current && !current.exit) {
    let timer;
    await Promise.race([current.exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }
  return crashNote();
}

/** " (pgfleetd has exited ...: <first sanitizer/last log lines>)" when the
 *  daemon `d` (default: the one started last) died, so that follow-on
 *  failures point at the cause; "" while it runs. */
export function crashNote(d = current) {
  if (!d || !d.exit) return "";
  const lines = d.stderr.split("\n");
  const first = lines.findIndex((l) => SANITIZER_RE.test(l));
  const shown = first >= 0 ? lines.slice(first, first + 14) : lines.slice(-14);
  return `\n-- pgfleetd has exited ${JSON.stringify(d.exit)}:\n${shown.join("\n")}`;
}

/**
 * For a beforeEach hook: when `d` has died (a crash in an earlier test),
 * record why in `crashes`, remove its data dir and return a fresh daemon
 * from `restart()`; otherwise return `d`. One crash then fails the test
 * that caused it and the file's shutdown test, not every later test.
 */
export async function replaceIfDead(d, crashes, restart) {
  if (d && !d.exit && !(await canConnect(d.port))) {
    // dying right now (the last request of the previous test killed it)
    let timer;
    await Promise.race([d.exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
    clearTimeout(timer);
  }
  if (!d || !d.exit) return d;
  crashes.push(crashNote(d));
  d.cleanup();
  return restart();
}

/** The daemon binary the suite runs (see the file comment). */
export function daemonBinary() {
  if (process.env.PGFLEETD) return path.resolve(process.env.PGFLEETD);
  const san = path.join(REPO_ROOT, "build/pgfleetd-san");
  if (fs.existsSync(san)) return san;
  return path.join(REPO_ROOT, "build/pgfleetd");
}

/** A loopback TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Environment for the daemon: sanitizers report and fail hard. */
function daemonEnv(extra) {
  return {
    ...process.env,
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? "detect_leaks=1:abort_on_error=0:halt_on_error=1",
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? "print_stacktrace=1:halt_on_error=1",
    ...extra,
  };
}

export class Daemon {
  constructor({ binary, dataDir, port, proc, configPath }) {
    this.binary = binary;
    this.dataDir = dataDir;
    this.port = port;
    this.host = "127.0.0.1";
    this.endpoint = `127.0.0.1:${port}`;
    this.proc = proc;
    this.configPath = configPath;
    this.stderrChunks = [];
    this.exit = null; // {code, signal} once exited
    this.exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    proc.stderr.on("data", (c) => this.stderrChunks.push(c));
    proc.stdout.on("data", (c) => this.stderrChunks.push(c));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.creds = null;
  }

  get stderr() {
    return Buffer.concat(this.stderrChunks).toString("utf8");
  }

  /** Last `n` lines of the daemon's log, for assertion messages. */
  logTail(n = 30) {
    return this.stderr.split("\n").slice(-n).join("\n");
  }

  get credentialsPath() {
    return path.join(this.dataDir, "credentials.json");
  }

  async waitReady() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(
          `pgfleetd exited during start-up (${JSON.stringify(this.exit)}):\n${this.logTail(50)}`,
        );
      }
      if (await canConnect(this.port)) break;
      await sleep(50);
    }
    if (!(await canConnect(this.port))) {
      throw new Error(`pgfleetd did not listen on ${this.endpoint} within ${READY_TIMEOUT_MS} ms:\n${this.logTail(50)}`);
    }
    while (!fs.existsSync(this.credentialsPath) && Date.now() < deadline) await sleep(50);
    this.creds = JSON.parse(fs.readFileSync(this.credentialsPath, "utf8"));
    assert.ok(this.creds.secretId && this.creds.secretKey, "credentials.json has secretId and secretKey");
  }

  /**
   * An official SDK client bound to this daemon.
   * opts: signMethod ("TC3-HMAC-SHA256" | "HmacSHA256" | "HmacSHA1"),
   * reqMethod ("POST" | "GET"), language, region, secretId, secretKey,
   * reqTimeout (s), agent (http.Agent; default: a keep-alive agent).
   */
  client(opts = {}) {
    const {
      signMethod = "TC3-HMAC-SHA256",
      reqMethod = "POST",
      language,
      region,
      secretId = this.creds.secretId,
      secretKey = this.creds.secretKey,
      reqTimeout = 15,
      agent = this.agent,
    } = opts;
    return new PostgresClient({
      credential: { secretId, secretKey },
      region: region ?? "",
      profile: {
        signMethod,
        ...(language ? { language } : {}),
        httpProfile: {
          endpoint: this.endpoint,
          protocol: "http://",
          reqMethod,
          reqTimeout,
          // An explicit agent also keeps the SDK from honouring http_proxy.
          agent,
        },
      },
    });
  }

  /** Raw TC3-signed request (see buildTc3 for options); resolves with the
   *  exchange result, whose `.response.Response` is the API envelope. */
  tc3(opts, xopts) {
    return exchange(this.port, this.buildTc3(opts), xopts);
  }

  buildTc3(opts) {
    return buildTc3({
      secretId: this.creds.secretId,
      secretKey: this.creds.secretKey,
      host: this.endpoint,
      ...opts,
    });
  }

  /** Raw v1-signed request (see buildV1 for options). */
  v1(opts, xopts) {
    return exchange(this.port, this.buildV1(opts), xopts);
  }

  buildV1(opts) {
    return buildV1({
      secretId: this.creds.secretId,
      secretKey: this.creds.secretKey,
      host: this.endpoint,
      ...opts,
    });
  }

  /** Send arbitrary bytes (or steps) on a fresh connection. */
  send(chunks, xopts) {
    return exchange(this.port, chunks, xopts);
  }

  /** `pgfleetd --data-dir DIR tenant-create NAME` -> {secretId, secretKey}. */
  async tenantCreate(name) {
    const { stdout } = await execFileP(this.binary, ["--data-dir", this.dataDir, "tenant-create", name], {
      env: daemonEnv(),
      timeout: 20000,
    });
    const line = stdout.trim().split("\n").filter(Boolean).pop();
    const creds = JSON.parse(line);
    assert.ok(creds.secretId && creds.secretKey, `tenant-create printed credentials, got: ${stdout}`);
    return creds;
  }

  /**
   * SIGTERM and wait. Asserts exit code 0 and no sanitizer report. Returns
   * {code, signal, stderr}. Safe to call twice.
   */
  async stop({ check = true } = {}) {
    this.agent.destroy();
    if (!this.exit) {
      this.proc.kill("SIGTERM");
      let timer;
      const t = await Promise.race([
        this.exited,
        new Promise((r) => {
          timer = setTimeout(() => r(null), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!t) {
        this.proc.kill("SIGKILL");
        await this.exited;
        if (check) assert.fail(`pgfleetd did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM:\n${this.logTail()}`);
      }
    }
    const stderr = this.stderr;
    const leftovers = this.killGroup();
    if (check) {
      const lines = stderr.split("\n");
      const first = lines.findIndex((l) => SANITIZER_RE.test(l));
      assert.ok(
        first < 0,
        `sanitizer report in pgfleetd's stderr (exit ${JSON.stringify(this.exit)}):\n` +
          lines
            .slice(first, first + 400)
            .filter((l) => !/asan_malloc|libjansson|<unknown module>|^\s*$/.test(l))
            .slice(0, 60)
            .join("\n"),
      );
      assert.deepEqual(
        this.exit,
        { code: 0, signal: null },
        `pgfleetd should exit 0 on SIGTERM, got ${JSON.stringify(this.exit)}:\n${this.logTail()}`,
      );
      assert.deepEqual(
        leftovers,
        [],
        "processes pgfleetd started were still running after its clean exit (killed now)",
      );
    }
    return { ...this.exit, stderr };
  }

  /**
   * SIGKILL whatever is left in the daemon's process group (it runs as a
   * group leader: helpers it spawned without a session of their own, e.g. an
   * initdb cut short by a crash). Returns "pid cmdline" of each one killed.
   */
  killGroup() {
    const left = processGroupMembers(this.proc.pid);
    for (const { pid } of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    live.delete(this);
    return left.map(({ pid, cmd }) => `${pid} ${cmd}`);
  }

  /** Remove the data directory (after stop); never throws. */
  cleanup() {
    this.killGroup();
    if (process.env.PGFLEET_E2E_KEEP) return;
    removeInstanceUsers(this.dataDir);
    try {
      fs.rmSync(this.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      if (this.configPath) fs.rmSync(this.configPath, { force: true });
    } catch (e) {
      console.warn(`could not remove ${this.dataDir}: ${e.message}`);
    }
  }
}

/**
 * Each instance runs as its own OS user pgf_<id> (created by the daemon as
 * root); instances left in a test data dir would leave their users behind.
 */
function removeInstanceUsers(dataDir) {
  if (process.getuid() !== 0) return;
  let nodes = [];
  try {
    nodes = fs.readdirSync(path.join(dataDir, "nodes"));
  } catch {
    return;
  }
  for (const node of nodes) {
    const m = /^postgres-([a-z0-9]+)-\d+$/.exec(node);
    if (!m) continue;
    try {
      execFileSync("/usr/sbin/userdel", [`pgf_${m[1]}`], { stdio: "ignore" });
    } catch {
      // gone already, or a process of it still runs: nothing more to do here
    }
  }
}

/** Live processes (not zombies) whose process group is `pgid`, from /proc. */
function processGroupMembers(pgid) {
  const out = [];
  for (const ent of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${ent}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // state ppid pgrp ...
      if (Number(f[2]) !== pgid || f[0] === "Z") continue;
      const cmd = fs.readFileSync(`/proc/${ent}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      out.push({ pid: Number(ent), cmd });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

// Daemons not stopped yet: if the test process exits early, take their
// process groups down with it (only groups this harness created).
const live = new Set();
process.on("exit", () => {
  for (const d of live) {
    try {
      process.kill(-d.proc.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/**
 * Start pgfleetd. opts: dataDir (default: a new temp dir), config (object
 * written to DATA_DIR/../config.json and passed with --config), args (extra
 * argv), logLevel (default "debug"), env (extra environment).
 */
export async function startDaemon(opts = {}) {
  const binary = daemonBinary();
  assert.ok(fs.existsSync(binary), `pgfleetd binary not found at ${binary}: run make (or set PGFLEETD)`);
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "pgfleet-e2e-"));
  const port = opts.port ?? (await freePort());
  const args = ["--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--log-level", opts.logLevel ?? "debug"];
  let configPath;
  if (opts.config) {
    configPath = `${dataDir}.config.json`;
    fs.writeFileSync(configPath, JSON.stringify(opts.config));
    args.push("--config", configPath);
  }
  args.push(...(opts.args ?? []));
  // detached: the daemon leads its own process group, so that helpers it
  // leaves behind can be found and cleaned up (see killGroup()).
  const proc = spawn(binary, args, { env: daemonEnv(opts.env), stdio: ["ignore", "pipe", "pipe"], detached: true });
  const d = new Daemon({ binary, dataDir, port, proc, configPath });
  current = d;
  live.add(d);
  try {
    await d.waitReady();
  } catch (e) {
    await d.stop({ check: false });
    throw e;
  }
  return d;
}

/**
 * Await `promise` (an SDK call) and return the TencentCloudSDKHttpException
 * it rejects with; fail when it resolves.
 */
export async function sdkError(promise, what = "the call") {
  let res;
  try {
    res = await promise;
  } catch (e) {
    return e;
  }
  assert.fail(`${what} should have failed with an API error, but succeeded: ${JSON.stringify(res).slice(0, 500)}`);
}

/** Assert that an SDK call fails with exactly `code`; returns the error. */
export async function expectCode(promise, code, what = "the call") {
  const e = await sdkError(promise, what);
  assert.equal(e.code, code, `${what}: expected error ${code}, got ${e.code} (${e.message})${e.code ? "" : await crashNoteSoon()}`);
  return e;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Assert that a raw exchange got one HTTP 200 JSON envelope. With `code`,
 * assert Response.Error.Code === code; with code === null, assert success.
 * Returns the Response object.
 */
export function expectEnvelope(x, code, what = "the request") {
  const r = x.response;
  assert.ok(
    r,
    `${what}: no HTTP response (closed=${x.closed}, error=${x.error}, got ${x.raw.length} bytes: ` +
      `${JSON.stringify(x.raw.subarray(0, 200).toString("latin1"))})${crashNote()}`,
  );
  assert.equal(r.status, 200, `${what}: HTTP status must always be 200, got ${r.status} ${r.reason}: ${r.body.toString().slice(0, 300)}`);
  assert.ok(r.Response, `${what}: body is not a {"Response": ...} envelope: ${r.body.toString().slice(0, 300)}`);
  assert.match(String(r.Response.RequestId), UUID_RE, `${what}: RequestId must be a uuid`);
  if (code === null) {
    assert.equal(r.Response.Error, undefined, `${what}: expected success, got ${JSON.stringify(r.Response.Error)}`);
  } else if (code !== undefined) {
    assert.ok(r.Response.Error, `${what}: expected error ${code}, got success: ${r.body.toString().slice(0, 300)}`);
    assert.equal(r.Response.Error.Code, code, `${what}: expected ${code}, got ${r.Response.Error.Code} (${r.Response.Error.Message})`);
    assert.equal(typeof r.Response.Error.Message, "string", `${what}: Error.Message must be a string`);
  }
  return r.Response;
}
