// bench.mjs - the backup benchmark's measuring part (run.sh starts the
// daemon and calls this). On one instance loaded with `pgbench -i -s SCALE`,
// side by side in one run:
//
//   pgfleetd        CreateBaseBackup -> poll DescribeBaseBackups every 50 ms
//                   until "finished";  CloneDBInstance to a point in time T ->
//                   "running" -> first query on the clone
//   pg_basebackup   to a directory (-Fp -Xstream -c fast), as the servers' OS
//                   user; also with pgfleetd's own options (-Ft -Xfetch
//                   -Z server-zstd:level=1), to tell the tool's time from the
//                   service's; "restore" = cp -a of the backup + pg_ctl start
//                   + first query (no point in time: it has no WAL archive)
//   pgBackRest      the instance archives into a pgBackRest repository for
//                   this part (ALTER SYSTEM archive_command, reset after);
//                   full backup (process-max 2, zst level 1, start-fast);
//                   restore --type=time to T + start + promotion + first query
//
// Backups are taken ROUNDS times each (interleaved: one of each per round)
// and the median is reported; MB/s is the database size (sum of
// pg_database_size) over the seconds. The instance's superuser password is
// read from the daemon's store (as an operator can), because pg_basebackup
// and pgBackRest need a replication-capable role.
//
// Output: one JSON object on stdout. Usage (see run.sh):
//   node bench.mjs --endpoint 127.0.0.1:PORT --credentials FILE --data-dir DIR --tmp DIR
//        --net 127.A.B --bin /usr/lib/postgresql/15/bin [--scale 50] [--rounds 3]

import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, "../../tests/e2e/package.json"));
const tencentcloud = require("tencentcloud-sdk-nodejs");
const pg = require("pg");

const ADMIN = "bench_admin";
const PASSWORD = "Bench_pass1";
const SUPER = "pgfleet_super";

function args() {
  const a = { scale: 50, rounds: 3 };
  for (let i = 2; i < process.argv.length; i += 2) a[process.argv[i].replace(/^--/, "").replace(/-(.)/g, (_, c) => c.toUpperCase())] = process.argv[i + 1];
  a.scale = Number(a.scale);
  a.rounds = Number(a.rounds);
  return a;
}

const A = args();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const log = (...m) => console.error("==", ...m);

function client() {
  const creds = JSON.parse(fs.readFileSync(A.credentials, "utf8"));
  return new tencentcloud.postgres.v20170312.Client({
    credential: { secretId: creds.secretId, secretKey: creds.secretKey },
    region: "",
    profile: { httpProfile: { endpoint: A.endpoint, protocol: "http://", reqTimeout: 120, agent: new http.Agent({ keepAlive: true }) } },
  });
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Run as OS user `user` (PostgreSQL's tools refuse root). */
function runAs(user, argv, env = {}) {
  return run("runuser", ["-u", user, "--", "env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv], { cwd: "/tmp" });
}

function time(fn) {
  const t0 = now();
  const r = fn();
  return { s: (now() - t0) / 1000, r };
}

async function timeAsync(fn) {
  const t0 = now();
  const r = await fn();
  return { s: (now() - t0) / 1000, r };
}

async function query(cfg, text) {
  const c = new pg.Client({ port: 5432, connectionTimeoutMillis: 5000, ...cfg });
  c.on("error", () => {});
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Connect (retrying every 5 ms) until `ok(rows)` holds for `text`. */
async function until(cfg, text, ok, timeoutMs = 600000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const rows = await query(cfg, text);
      if (ok(rows)) return rows;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${text}`);
    await sleep(5);
  }
}

function fmt(t) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function duBytes(p) {
  return Number(run("du", ["-sb", p]).split("\t")[0]);
}

/** The instance's document from the daemon's store (operator access). */
function instanceDoc(id) {
  const py = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"select doc from resources where kind='instance' and id=?\", (sys.argv[2],)).fetchone()[0])";
  return JSON.parse(run("python3", ["-c", py, path.join(A.dataDir, "pgfleet.db"), id]));
}

async function waitStatus(c, id, want) {
  for (;;) {
    const inst = (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance;
    if (inst.DBInstanceStatus === want) return inst;
    if (inst.DBInstanceStatus === "offline") throw new Error(`${id} went offline`);
    await sleep(20);
  }
}

async function waitBackup(c, id) {
  for (;;) {
    const b = (await c.DescribeBaseBackups({ Filters: [{ Name: "base-backup-id", Values: [id] }] })).BaseBackupSet[0];
    if (b && b.State === "finished") return b;
    if (b && b.State === "failed") throw new Error(`backup ${id} failed`);
    await sleep(50);
  }
}

/** Writes for a few seconds, then T (a whole second with writes before and after). */
async function markTime(ip, seconds) {
  const pgbench = (t) => run(`${A.bin}/pgbench`, ["-h", ip, "-U", ADMIN, "-n", "-c", "2", "-T", String(t), "postgres"], { env: { ...process.env, PGPASSWORD: PASSWORD } });
  pgbench(seconds);
  const [{ n }] = await query({ host: ip, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT count(*)::int AS n FROM pgbench_history");
  const T = Math.floor(Date.now() / 1000) + 1;
  while (Date.now() < (T + 1) * 1000) await sleep(20);
  pgbench(2);
  return { T, historyRows: n };
}

async function pgfleetBackup(c, inst, round) {
  const { s, r } = await timeAsync(async () => waitBackup(c, (await c.CreateBaseBackup({ DBInstanceId: inst })).BaseBackupId));
  log(`pgfleetd base backup ${round + 1}: ${s.toFixed(2)} s, ${r.Size} bytes`);
  return { s, size: r.Size };
}

async function pgfleetClone(c, inst, ip) {
  const { T, historyRows } = await markTime(ip, 5);
  for (;;) {
    const w = await c.DescribeAvailableRecoveryTime({ DBInstanceId: inst });
    if (w.RecoveryEndTime && w.RecoveryEndTime >= fmt(T + 1)) break;
    await sleep(100);
  }
  const clone = await timeAsync(async () => {
    const r = await c.CloneDBInstance({ DBInstanceId: inst, SpecCode: "cdb.pg.z1.2g", Storage: 20, Period: 1, AutoRenewFlag: 0,
      VpcId: "vpc-bench", SubnetId: "subnet-bench", InstanceChargeType: "POSTPAID_BY_HOUR", RecoveryTargetTime: fmt(T) });
    const ci = await waitStatus(c, r.DBInstanceId, "running");
    const cip = ci.DBInstanceNetInfo[0].Ip;
    return query({ host: cip, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT count(*)::int AS n FROM pgbench_history");
  });
  log(`pgfleetd clone to T: ${clone.s.toFixed(2)} s (rows ${clone.r[0].n}, expected ${historyRows})`);
  return { s: clone.s, correct: clone.r[0].n === historyRows };
}

function pgbasebackupPart(ip, superPw, round) {
  const env = { PGPASSWORD: superPw };
  const plain = path.join(A.tmp, "pgbb", `plain-${round}`);
  const tar = path.join(A.tmp, "pgbb", `tar-${round}`);
  const p = time(() => runAs("pgfleet", [`${A.bin}/pg_basebackup`, "-h", ip, "-U", SUPER, "-D", plain, "-Fp", "-Xstream", "-c", "fast"], env));
  const t = time(() => runAs("pgfleet", [`${A.bin}/pg_basebackup`, "-h", ip, "-U", SUPER, "-D", tar, "-Ft", "-Xfetch", "-Z", "server-zstd:level=1", "-c", "fast"], env));
  log(`pg_basebackup round ${round}: plain ${p.s.toFixed(2)} s, pgfleetd's options ${t.s.toFixed(2)} s`);
  const r = { plain: { s: p.s, size: duBytes(plain) }, tar: { s: t.s, size: duBytes(tar) } };
  if (round > 0) fs.rmSync(plain, { recursive: true, force: true });
  fs.rmSync(tar, { recursive: true, force: true });
  return r;
}

async function pgbasebackupRestore() {
  const src = path.join(A.tmp, "pgbb", "plain-0");
  const dst = path.join(A.tmp, "pgbb", "restore");
  const host = `${A.net}.201`;
  const { s } = await timeAsync(async () => {
    run("cp", ["-a", src, dst]);
    runAs("pgfleet", [`${A.bin}/pg_ctl`, "-D", dst, "-l", `${dst}.log`, "-w", "-o",
      `-c listen_addresses=${host} -c port=5432 -c unix_socket_directories='' -c archive_mode=off -c logging_collector=off`, "start"]);
    return until({ host, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT 1", () => true);
  });
  runAs("pgfleet", [`${A.bin}/pg_ctl`, "-D", dst, "-m", "immediate", "stop"]);
  log(`pg_basebackup restore (copy + start): ${s.toFixed(2)} s`);
  return { s };
}

/** pgBackRest on the instance: its own archive for the duration, backups, a PITR restore. */
async function pgbackrestPart(ip, superPw, osUser, dataDir, rounds) {
  const dir = path.join(A.tmp, "pgbr");
  const conf = path.join(dir, "pgbackrest.conf");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(conf, ["[global]", `repo1-path=${dir}/repo`, `log-path=${dir}/log`, `lock-path=${dir}/lock`, `spool-path=${dir}/spool`,
    "start-fast=y", "compress-type=zst", "compress-level=1", "process-max=2", "repo1-retention-full=99", "log-level-console=warn",
    "log-level-file=off", "", "[bench]", `pg1-path=${dataDir}`, `pg1-user=${SUPER}`, "pg1-port=5432", ""].join("\n"), { mode: 0o644 });
  for (const d of ["repo", "log", "lock", "spool"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  run("chown", ["-R", `${osUser}:`, dir]);
  const su = { host: ip, user: SUPER, password: superPw, database: "postgres" };
  const br = (...a) => runAs(osUser, ["pgbackrest", `--config=${conf}`, "--stanza=bench", ...a], { PGHOST: ip, PGPASSWORD: superPw });
  await query(su, `ALTER SYSTEM SET archive_command = 'pgbackrest --config=${conf} --stanza=bench archive-push %p'`);
  await query(su, "SELECT pg_reload_conf()");
  const out = { backups: [] };
  try {
    br("stanza-create");
    br("check");
    for (let i = 0; i < rounds; i++) {
      const { s } = time(() => br("--type=full", "backup"));
      out.backups.push({ s, size: duBytes(path.join(dir, "repo")) });
      log(`pgBackRest full backup ${i + 1}: ${s.toFixed(2)} s`);
    }
    const { T, historyRows } = await markTime(ip, 5);
    await query(su, "SELECT pg_switch_wal()");
    br("check"); // the segment holding T is in the repository
    const dst = path.join(dir, "restore");
    fs.mkdirSync(dst, { mode: 0o700 });
    run("chown", [`${osUser}:`, dst]);
    const host = `${A.net}.202`;
    const { s, r } = await timeAsync(async () => {
      br(`--pg1-path=${dst}`, "--type=time", `--target=${fmt(T)}`, "--target-action=promote", "restore");
      runAs(osUser, [`${A.bin}/pg_ctl`, "-D", dst, "-l", `${dst}.log`, "-o",
        `-c listen_addresses=${host} -c port=5432 -c unix_socket_directories='' -c archive_mode=off -c logging_collector=off`, "start"]);
      await until({ host, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT pg_is_in_recovery() AS r", (rows) => rows[0].r === false);
      return query({ host, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT count(*)::int AS n FROM pgbench_history");
    });
    runAs(osUser, [`${A.bin}/pg_ctl`, "-D", dst, "-m", "immediate", "stop"]);
    log(`pgBackRest restore to T: ${s.toFixed(2)} s (rows ${r[0].n}, expected ${historyRows})`);
    out.restore = { s, correct: r[0].n === historyRows };
  } finally {
    await query(su, "ALTER SYSTEM RESET archive_command");
    await query(su, "SELECT pg_reload_conf()");
  }
  return out;
}

async function main() {
  const c = client();
  log("creating the instance");
  const r = await c.CreateInstances({ Zone: "ap-guangzhou-3", SpecCode: "cdb.pg.z1.2g", Storage: 20, InstanceCount: 1, Period: 1,
    Charset: "UTF8", AdminName: ADMIN, AdminPassword: PASSWORD, DBMajorVersion: "15", InstanceChargeType: "POSTPAID_BY_HOUR" });
  const inst = r.DBInstanceIdSet[0];
  const ip = (await waitStatus(c, inst, "running")).DBInstanceNetInfo[0].Ip;
  log(`pgbench -i -s ${A.scale} on ${inst} (${ip})`);
  const load = time(() => run(`${A.bin}/pgbench`, ["-i", "-q", "-s", String(A.scale), "-h", ip, "-U", ADMIN, "postgres"], { env: { ...process.env, PGPASSWORD: PASSWORD } }));
  const [{ b: dbText }] = await query({ host: ip, user: ADMIN, password: PASSWORD, database: "postgres" }, "SELECT sum(pg_database_size(datname))::bigint AS b FROM pg_database");
  const dbBytes = Number(dbText);
  const doc = instanceDoc(inst);
  const superPw = doc.SuperPassword;
  const osUser = doc.OsUser ?? "pgfleet";
  const dataDir = path.join(A.dataDir, "nodes", `${inst}-1`, "data");
  fs.mkdirSync(path.join(A.tmp, "pgbb"), { mode: 0o700 });
  run("chown", ["pgfleet:", path.join(A.tmp, "pgbb")]);
  // rounds of backups, interleaved: pgfleetd, pg_basebackup (both ways)
  const pgf = { backups: [] };
  const pgbb = [];
  for (let i = 0; i < A.rounds; i++) {
    pgf.backups.push(await pgfleetBackup(c, inst, i));
    pgbb.push(pgbasebackupPart(ip, superPw, i));
  }
  const clone = await pgfleetClone(c, inst, ip);
  const bbRestore = await pgbasebackupRestore();
  const pgbr = await pgbackrestPart(ip, superPw, osUser, dataDir, A.rounds);
  const mbps = (s) => dbBytes / 1e6 / s;
  const res = {
    scale: A.scale,
    dbBytes,
    loadSeconds: load.s,
    pgfleet: { backupS: median(pgf.backups.map((x) => x.s)), backupMBps: mbps(median(pgf.backups.map((x) => x.s))), size: pgf.backups[0].size,
      all: pgf.backups.map((x) => x.s), cloneS: clone.s, cloneMBps: mbps(clone.s), cloneCorrect: clone.correct },
    pgBasebackupPlain: { backupS: median(pgbb.map((x) => x.plain.s)), backupMBps: mbps(median(pgbb.map((x) => x.plain.s))), size: pgbb[0].plain.size,
      all: pgbb.map((x) => x.plain.s), restoreS: bbRestore.s, restoreMBps: mbps(bbRestore.s) },
    pgBasebackupPgfleetOptions: { backupS: median(pgbb.map((x) => x.tar.s)), backupMBps: mbps(median(pgbb.map((x) => x.tar.s))), size: pgbb[0].tar.size,
      all: pgbb.map((x) => x.tar.s) },
    pgbackrest: { backupS: median(pgbr.backups.map((x) => x.s)), backupMBps: mbps(median(pgbr.backups.map((x) => x.s))),
      all: pgbr.backups.map((x) => x.s), repoBytesAfterAll: pgbr.backups.at(-1).size, restoreS: pgbr.restore.s,
      restoreMBps: mbps(pgbr.restore.s), restoreCorrect: pgbr.restore.correct },
  };
  process.stdout.write(JSON.stringify(res, null, 2) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
