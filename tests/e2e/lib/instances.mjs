// instances.mjs - helpers of the instance tests (10-12): a daemon with its
// own private address range, SIGKILL + restart on the same data directory,
// creating an instance and waiting for a status, SQL over `pg`, and the
// PostgreSQL processes that belong to a data directory (found from
// /proc/*/cmdline, `postgres -D DIR/nodes/<id>-1/data`, plus their
// descendants), so that every test file can prove that it leaves none behind.
//
// Built on the harness (lib/daemon.mjs), which it does not change.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

import pg from "pg";

import { crashNote, startDaemon } from "./daemon.mjs";

export { pg };

export const POLL_MS = 20;
export const CREATE_TIMEOUT_MS = 30000;
export const ADMIN = "e2e_admin";
export const ADMIN_PW = "Secret_pass1";

/** The codes a missing (or other tenant's) instance may be refused with. */
export const NOT_FOUND_CODES = ["ResourceNotFound.InstanceNotFoundError", "InvalidParameterValue.InstanceNotExist"];
/** The codes an operation refused for the instance's status may carry. The
 *  brief names InstanceStatusLimitError; some actions document only
 *  InstanceStatusLimitOpError (RestartDBInstance, DestroyDBInstance). */
export const STATUS_LIMIT_CODES = ["OperationDenied.InstanceStatusLimitError", "OperationDenied.InstanceStatusLimitOpError"];

/** The CreateInstances parameters of the brief, with `over` merged in. */
export function createParams(over = {}) {
  return {
    Zone: "ap-guangzhou-3",
    SpecCode: "cdb.pg.z1.2g",
    Storage: 10,
    InstanceCount: 1,
    Period: 1,
    Charset: "UTF8",
    AdminName: ADMIN,
    AdminPassword: ADMIN_PW,
    DBMajorVersion: "15",
    InstanceChargeType: "POSTPAID_BY_HOUR",
    ...over,
  };
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A random /24-sized range 127.A.B.1-127.A.B.<n> away from the default
 *  127.10.0.0/16, so that parallel suites and the benchmark do not collide. */
export function vipRange(n = 254) {
  const a = 200 + crypto.randomInt(0, 50);
  const b = crypto.randomInt(0, 256);
  return { vip_first: `127.${a}.${b}.1`, vip_last: `127.${a}.${b}.${n}` };
}

// ---- daemons ----

const started = new Set(); // data directories of this process, for the exit hook

/**
 * startDaemon() with a private address range and (optionally) more
 * settings. opts: config (merged), vips (range size), args, dataDir, port.
 * The returned Daemon carries .fleetConfig for restarts.
 */
export async function startFleet(opts = {}) {
  const config = { ...vipRange(opts.vips ?? 254), ...(opts.config ?? {}) };
  const d = await startDaemon({ ...opts, config });
  d.fleetConfig = config;
  started.add(d.dataDir);
  return d;
}

/** SIGKILL the daemon (its postmasters run in their own sessions and live on). */
export async function killDaemon(d) {
  if (!d.exit) {
    d.proc.kill("SIGKILL");
    await d.exited;
  }
  d.agent.destroy();
}

/** Start the daemon again on the same data directory and settings. */
export async function restartFleet(d, opts = {}) {
  const config = { ...d.fleetConfig, ...(opts.config ?? {}) };
  const nd = await startDaemon({ dataDir: d.dataDir, config, args: opts.args });
  nd.fleetConfig = config;
  return nd;
}

/**
 * Stop a daemon for good: SIGTERM (which stops the servers unless
 * keep_instances_running), then SIGKILL whatever PostgreSQL process of its
 * data directory is left, then remove the directory and the config file.
 * Never throws; returns the processes that had to be killed.
 */
export async function disposeFleet(d) {
  if (!d) return [];
  try {
    await d.stop({ check: false });
  } catch {
    // stop() with check:false only throws on harness errors; carry on
  }
  const left = await killPostgresOf(d.dataDir);
  d.cleanup();
  if (d.configPath && !process.env.PGFLEET_E2E_KEEP) fs.rmSync(d.configPath, { force: true });
  started.delete(d.dataDir);
  return left;
}

// Whatever happens to the test process, no postmaster of its data dirs stays.
process.on("exit", () => {
  for (const dir of started) for (const p of postgresProcessesOf(dir)) killQuietly(p.pid);
});

// ---- processes ----

function readProc(pid, file) {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return null;
  }
}

/** Every live process: [{pid, ppid, state, cmd}]. */
export function processTable() {
  const out = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(name, "stat");
    const cmdline = readProc(name, "cmdline");
    if (stat === null || cmdline === null) continue;
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.push({ pid: Number(name), state: rest[0], ppid: Number(rest[1]), cmd: cmdline.split("\0").join(" ").trim() });
  }
  return out;
}

/**
 * PostgreSQL processes of `dir` (a data dir of the daemon, or a node dir):
 * processes whose command line names a path under `dir` (postmasters, and
 * initdb/postgres of a template), plus all their descendants. Zombies are
 * left out (they hold nothing; their parent reaps them).
 */
export function postgresProcessesOf(dir) {
  const table = processTable().filter((p) => p.state !== "Z");
  const byParent = new Map();
  for (const p of table) {
    if (!byParent.has(p.ppid)) byParent.set(p.ppid, []);
    byParent.get(p.ppid).push(p);
  }
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const roots = table.filter((p) => p.cmd.split(" ").some((arg) => arg === dir || arg.startsWith(prefix)));
  const seen = new Map();
  const walk = (p) => {
    if (seen.has(p.pid)) return;
    seen.set(p.pid, p);
    for (const k of byParent.get(p.pid) ?? []) walk(k);
  };
  roots.forEach(walk);
  return [...seen.values()];
}

function killQuietly(pid) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** SIGKILL every PostgreSQL process of `dir`; resolves with what was found. */
export async function killPostgresOf(dir) {
  const found = postgresProcessesOf(dir);
  for (const p of found) killQuietly(p.pid);
  const deadline = Date.now() + 5000;
  while (postgresProcessesOf(dir).length && Date.now() < deadline) await sleep(POLL_MS);
  return found;
}

/** DATA_DIR/nodes/<id>-1, the primary node's directory. */
export function nodeDir(d, id) {
  return path.join(d.dataDir, "nodes", `${id}-1`);
}

/** The postmaster's pid from line 1 of its postmaster.pid. */
export function postmasterPid(d, id) {
  const text = fs.readFileSync(path.join(nodeDir(d, id), "data", "postmaster.pid"), "utf8");
  const pid = Number(text.split("\n")[0]);
  assert.ok(pid > 0, `postmaster.pid of ${id} has a pid on line 1: ${JSON.stringify(text.slice(0, 80))}`);
  return pid;
}

export function alive(pid) {
  const stat = readProc(pid, "stat");
  if (stat === null) return false;
  return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

// ---- waiting ----

/** Poll `fn` until it returns a truthy value; fail with `what` after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = POLL_MS, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${crashNote()}`);
    await sleep(intervalMs);
  }
}

/**
 * Poll DescribeDBInstanceAttribute until the status is `want`. Every status
 * seen (deduplicated, in order) is pushed onto opts.seen. A status outside
 * opts.allowed (when given) fails at once, as does "offline" unless wanted.
 * Resolves with the DBInstance.
 */
export async function waitStatus(c, id, want, opts = {}) {
  const { timeoutMs = CREATE_TIMEOUT_MS, seen = [], allowed } = opts;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inst = (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance;
    const s = inst.DBInstanceStatus;
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (s === want) return inst;
    if (allowed && !allowed.includes(s)) assert.fail(`${id}: unexpected status ${s} while waiting for ${want} (seen ${seen})`);
    if (s === "offline") assert.fail(`${id}: went offline while waiting for ${want} (seen ${seen})${crashNote()}`);
    if (Date.now() > deadline) assert.fail(`${id}: still ${s} after ${timeoutMs} ms waiting for ${want} (seen ${seen})${crashNote()}`);
    await sleep(POLL_MS);
  }
}

/** The instance's private address, port and network status. */
export function netInfo(inst) {
  const ni = inst.DBInstanceNetInfo;
  assert.ok(Array.isArray(ni) && ni.length >= 1, `${inst.DBInstanceId} has DBInstanceNetInfo: ${JSON.stringify(ni)}`);
  return ni[0];
}

/**
 * CreateInstances, wait for "running", connect as the admin and run a first
 * query. Resolves with {id, inst, ip, seen, ms: {accepted, running, firstQuery}}
 * (milliseconds since the call was made).
 */
export async function createInstance(c, over = {}) {
  const params = createParams(over);
  const t0 = performance.now();
  const r = await c.CreateInstances(params);
  const accepted = performance.now() - t0;
  assert.equal(r.DBInstanceIdSet.length, 1, `CreateInstances returns one id: ${JSON.stringify(r)}`);
  const id = r.DBInstanceIdSet[0];
  const seen = [];
  const inst = await waitStatus(c, id, "running", { seen, allowed: ["applying", "initing", "running"] });
  const running = performance.now() - t0;
  const ip = netInfo(inst).Ip;
  await withPg({ host: ip, user: params.AdminName, password: params.AdminPassword }, (cl) => cl.query("SELECT 1"));
  const firstQuery = performance.now() - t0;
  return { id, inst, ip, seen, ms: { accepted, running, firstQuery } };
}

export function fmtMs(ms) {
  return `${Math.round(ms)} ms`;
}

// ---- SQL ----

/** Connection settings for `pg`; database defaults to "postgres". */
export function pgConfig({ host, user = ADMIN, password = ADMIN_PW, database = "postgres" }) {
  return { host, port: 5432, user, password, database, connectionTimeoutMillis: 5000, statement_timeout: 10000 };
}

/** Connect, run fn(client), always end the connection. */
export async function withPg(opts, fn) {
  const cl = new pg.Client(pgConfig(opts));
  cl.on("error", () => {}); // a server going away must not crash the test process
  await cl.connect();
  try {
    return await fn(cl);
  } finally {
    await cl.end().catch(() => {});
  }
}

/** Rows of one query on a fresh connection. */
export async function sql(opts, text, values) {
  return withPg(opts, async (cl) => (await cl.query(text, values)).rows);
}

/** The error a connection attempt fails with (fails the test when it connects). */
export async function connectError(opts, what = "the connection") {
  const cl = new pg.Client(pgConfig(opts));
  cl.on("error", () => {});
  try {
    await cl.connect();
  } catch (e) {
    return e;
  }
  await cl.end().catch(() => {});
  assert.fail(`${what} should have failed, but connected`);
}

/** Assert that the password is refused (SQLSTATE 28P01). */
export async function expectAuthFailure(opts, what) {
  const e = await connectError(opts, what);
  assert.equal(e.code, "28P01", `${what}: expected invalid_password (28P01), got ${e.code} ${e.message}`);
}

/** Assert that nothing accepts TCP connections on host:5432. */
export function expectRefused(host, what = `${host}:5432`) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: 5432 });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`${what}: connect neither succeeded nor was refused within 3 s`));
    }, 3000);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      reject(new assert.AssertionError({ message: `${what}: expected the connection to be refused, but it was accepted` }));
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      if (e.code === "ECONNREFUSED") resolve();
      else reject(new Error(`${what}: expected ECONNREFUSED, got ${e.code} ${e.message}`));
    });
  });
}

/** Assert that an SDK call fails with one of `codes`; returns the error. */
export async function expectOneOf(promise, codes, what = "the call") {
  let res;
  try {
    res = await promise;
  } catch (e) {
    assert.ok(codes.includes(e.code), `${what}: expected one of ${codes.join(", ")}, got ${e.code} (${e.message})${e.code ? "" : crashNote()}`);
    return e;
  }
  assert.fail(`${what} should have failed with ${codes.join(" | ")}, but succeeded: ${JSON.stringify(res).slice(0, 300)}`);
}

/** Ids of the caller's instances (all pages). */
export async function listIds(c) {
  const ids = [];
  for (let off = 0; ; off += 100) {
    const r = await c.DescribeDBInstances({ Limit: 100, Offset: off });
    ids.push(...r.DBInstanceSet.map((i) => i.DBInstanceId));
    if (r.DBInstanceSet.length < 100) return ids;
  }
}
