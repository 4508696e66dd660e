// backups.mjs - helpers of the backup tests (50-51): waiting for backups and
// for the recovery window, business-time strings, downloads over plain HTTP
// (optionally from another loopback address), forging URLs with the daemon's
// key (expired ones), and restoring a downloaded base backup with nothing but
// tar and PostgreSQL's own pg_ctl in a scratch directory.
//
// Built on the harness (lib/daemon.mjs, lib/instances.mjs), which it does
// not change.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { crashNote, freePort } from "./daemon.mjs";
import { pg, pgConfig, sleep } from "./instances.mjs";

const execFileP = promisify(execFile);

export const PG_BIN = "/usr/lib/postgresql/15/bin";
export const NODE_USER = "pgfleet";

/** "YYYY-MM-DD HH:MM:SS" of unix seconds `t`, local time (the daemon's). */
export function fmt(t) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** "YYYY-MM-DD HH:MM:SS" (local) -> unix seconds. */
export function parse(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s);
  assert.ok(m, `a time of the form YYYY-MM-DD HH:MM:SS, got ${JSON.stringify(s)}`);
  return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]).getTime() / 1000;
}

/** "HH:MM:SS" of unix seconds `t`, local time. */
export function hms(t) {
  return fmt(t).slice(11);
}

/** Poll DescribeBaseBackups until backup `id` is in one of `states`. */
export async function waitBase(c, id, { states = ["finished"], timeoutMs = 60000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    const r = await c.DescribeBaseBackups({ Filters: [{ Name: "base-backup-id", Values: [id] }], MinFinishTime: "2000-01-01 00:00:00", MaxFinishTime: "2999-01-01 00:00:00" });
    last = r.BaseBackupSet[0];
    if (last && states.includes(last.State)) return last;
    if (last && last.State === "failed") assert.fail(`base backup ${id} failed${crashNote()}`);
    if (Date.now() > deadline) assert.fail(`base backup ${id} still ${last?.State} after ${timeoutMs} ms${crashNote()}`);
    await sleep(100);
  }
}

/** Every base backup of instance `id` (all pages, any time). */
export async function baseBackups(c, id) {
  const out = [];
  for (let off = 0; ; off += 100) {
    const r = await c.DescribeBaseBackups({ Filters: [{ Name: "db-instance-id", Values: [id] }], MinFinishTime: "2000-01-01 00:00:00", MaxFinishTime: "2999-01-01 00:00:00", Limit: 100, Offset: off, OrderBy: "StartTime", OrderByType: "asc" });
    out.push(...r.BaseBackupSet);
    if (r.BaseBackupSet.length < 100) return out;
  }
}

/** Every log backup of instance `id` (all pages, any time). */
export async function logBackups(c, id) {
  const out = [];
  for (let off = 0; ; off += 100) {
    const r = await c.DescribeLogBackups({ Filters: [{ Name: "db-instance-id", Values: [id] }], MinFinishTime: "2000-01-01 00:00:00", MaxFinishTime: "2999-01-01 00:00:00", Limit: 100, Offset: off, OrderBy: "StartTime", OrderByType: "asc" });
    out.push(...r.LogBackupSet);
    if (r.LogBackupSet.length < 100) return out;
  }
}

/** Take a manual base backup and wait for it: the BaseBackup object. */
export async function takeBackup(c, id) {
  const { BaseBackupId } = await c.CreateBaseBackup({ DBInstanceId: id });
  return waitBase(c, BaseBackupId);
}

/** Poll DescribeAvailableRecoveryTime until the window ends at or after `t` (unix s). */
export async function waitWindowEnd(c, id, t, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = await c.DescribeAvailableRecoveryTime({ DBInstanceId: id });
    if (w.RecoveryEndTime && parse(w.RecoveryEndTime) >= t) return w;
    if (Date.now() > deadline) assert.fail(`recovery window of ${id} still ends at ${w.RecoveryEndTime}, want ${fmt(t)}${crashNote()}`);
    await sleep(200);
  }
}

/** GET `url` over plain HTTP: {status, body (Buffer), headers}. opts.localAddress binds the client. */
export function download(url, { localAddress, method = "GET" } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, localAddress, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), headers: res.headers }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A URL signed with the daemon's own key (DATA_DIR/backup-download.key) for
 *  `pathname` and `expires` (unix s): what only the daemon can make, to test
 *  expiry without waiting. */
export function forgeUrl(d, pathname, expires, r = "") {
  const key = Buffer.from(fs.readFileSync(path.join(d.dataDir, "backup-download.key"), "utf8").trim(), "hex");
  const sig = crypto.createHmac("sha256", key).update(`${pathname}\n${expires}\n${r}`).digest("hex");
  return `http://${d.endpoint}${pathname}?expires=${expires}${r ? `&r=${r}` : ""}&sig=${sig}`;
}

async function run(cmd, args, opts = {}) {
  try {
    return await execFileP(cmd, args, { timeout: 120000, ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stderr ?? ""}`);
  }
}

/**
 * Restore a downloaded base backup file with plain tools: `tar -x` into a
 * scratch PGDATA, then `pg_ctl start` (as the unprivileged `pgfleet` user;
 * PostgreSQL refuses root) on 127.0.0.1 and a free port, with archiving,
 * the log collector and the service's session module off (the service's
 * own settings name its paths), as README.md tells users to.
 * Resolves with {host, port, stop()}.
 */
export async function plainRestore(file) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "pgfleet-e2e-restore-"));
  const data = path.join(scratch, "data");
  fs.mkdirSync(data, { mode: 0o700 });
  await run("tar", ["-x", "-f", file, "-C", data]);
  await run("chown", ["-R", `${NODE_USER}:`, scratch]);
  fs.chmodSync(data, 0o700);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories='' -c archive_mode=off ` +
    "-c logging_collector=off -c session_preload_libraries=''";
  const ctl = (...args) => run("runuser", ["-u", NODE_USER, "--", `${PG_BIN}/pg_ctl`, "-D", data, ...args]);
  await ctl("-l", path.join(scratch, "server.log"), "-w", "-t", "60", "-o", opts, "start");
  return {
    host: "127.0.0.1",
    port,
    log: () => fs.readFileSync(path.join(scratch, "server.log"), "utf8"),
    stop: async () => {
      await ctl("-m", "immediate", "-w", "stop").catch(() => {});
      if (!process.env.PGFLEET_E2E_KEEP) fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The ids of table `t` of database `db` on host:port, ascending (as the admin). */
export async function ids(host, db = "postgres", port = 5432) {
  const cl = new pg.Client({ ...pgConfig({ host, database: db }), port });
  cl.on("error", () => {});
  await cl.connect();
  try {
    return (await cl.query("SELECT id FROM t ORDER BY id")).rows.map((r) => r.id);
  } finally {
    await cl.end().catch(() => {});
  }
}

/** pg_basebackup processes (pid, cmd) whose command line mentions `needle`. */
export function basebackupProcs(needle) {
  const out = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
    } catch {
      continue;
    }
    if (cmd.includes("pg_basebackup") && cmd.includes(needle)) out.push({ pid: Number(name), cmd });
  }
  return out;
}
