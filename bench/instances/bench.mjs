// bench.mjs - the instance creation benchmark's measuring part (run.sh
// starts the daemon and calls this). Ways to get a queryable
// PostgreSQL 15, measured interleaved (one sample of each per round, so that
// load from elsewhere hits all alike):
//
//   pgfleetd   CreateInstances -> poll DescribeDBInstanceAttribute every
//              POLL_MS until "running" -> connect as the admin (scram) ->
//              SELECT 1
//   floor a    initdb + pg_ctl start -w + connect + SELECT 1
//   floor b    cp -a of an initdb'd PGDATA + pg_ctl start -w + connect + SELECT 1
//   floor c    cp -a + postgres started directly + connect retried every
//              2 ms + SELECT 1 (pg_ctl -w polls postmaster.pid only every
//              100 ms; this is the tighter floor, for reference)
//   floor d    as c, but the copy is made before the clock starts, as
//              pgfleetd's spare copies are: the least any design that starts
//              a server per instance can take
//
// After the rounds, --burst creations back to back (each starts when the
// previous one answered its first query) show what happens when the spare
// copies of the template are used up faster than they are refilled.
//
// Floors run as the servers' OS user, in FLOOR_DIR, each sample on its own
// 127.x address, with the same authentication as instances (scram-sha-256,
// TCP only), and are stopped and removed after each sample. The daemon's
// instances are kept, so that the memory of idle instances can be measured
// at the end: PSS and RSS summed over each postmaster's process tree from
// /proc/<pid>/smaps_rollup.
//
// Output: one JSON object on stdout. Usage (see run.sh):
//   node bench.mjs --endpoint 127.0.0.1:PORT --credentials FILE --data-dir DIR
//        --floor-dir DIR --floor-net 127.A.B --user pgfleet --bin /usr/lib/postgresql/15/bin
//        [--n 10] [--idle-s 10] [--burst 5]

import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, "../../tests/e2e/package.json"));
const tencentcloud = require("tencentcloud-sdk-nodejs");
const pg = require("pg");

const POLL_MS = 10;
const ADMIN = "bench_admin";
const PASSWORD = "Bench_pass1";

function args() {
  const a = process.argv.slice(2);
  const o = { n: 10, "idle-s": 10, burst: 5 };
  for (let i = 0; i < a.length; i += 2) o[a[i].replace(/^--/, "")] = a[i + 1];
  for (const k of ["endpoint", "credentials", "data-dir", "floor-dir", "floor-net", "user", "bin"]) {
    if (!o[k]) throw new Error(`missing --${k}`);
  }
  o.n = Number(o.n);
  o["idle-s"] = Number(o["idle-s"]);
  o.burst = Number(o.burst);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median, min: s[0], p90: q(0.9), max: s[s.length - 1], samples: xs.map((x) => Math.round(x * 10) / 10) };
}

async function firstQuery(host, user, password) {
  const c = new pg.Client({ host, port: 5432, user, password, database: "postgres" });
  await c.connect();
  try {
    await c.query("SELECT 1");
  } finally {
    await c.end();
  }
}

// ---- pgfleetd ----

function client(o) {
  const creds = JSON.parse(fs.readFileSync(o.credentials, "utf8"));
  return new tencentcloud.postgres.v20170312.Client({
    credential: { secretId: creds.secretId, secretKey: creds.secretKey },
    region: "",
    profile: {
      httpProfile: { endpoint: o.endpoint, protocol: "http://", reqTimeout: 30, agent: new http.Agent({ keepAlive: true }) },
    },
  });
}

/** One creation: {total, running, accepted} in ms, plus id and ip. */
async function daemonSample(c, name) {
  const t0 = now();
  const r = await c.CreateInstances({
    Zone: "ap-guangzhou-3",
    SpecCode: "cdb.pg.z1.2g",
    Storage: 10,
    InstanceCount: 1,
    Period: 1,
    Charset: "UTF8",
    AdminName: ADMIN,
    AdminPassword: PASSWORD,
    DBMajorVersion: "15",
    InstanceChargeType: "POSTPAID_BY_HOUR",
    Name: name,
  });
  const accepted = now() - t0;
  const id = r.DBInstanceIdSet[0];
  let inst;
  for (;;) {
    inst = (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance;
    if (inst.DBInstanceStatus === "running") break;
    if (inst.DBInstanceStatus === "offline") throw new Error(`${id} went offline`);
    if (now() - t0 > 60000) throw new Error(`${id} not running after 60 s`);
    await sleep(POLL_MS);
  }
  const running = now() - t0;
  const ip = inst.DBInstanceNetInfo[0].Ip;
  await firstQuery(ip, ADMIN, PASSWORD);
  return { id, ip, accepted, running, total: now() - t0 };
}

// ---- floors ----

function ids(user) {
  const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
  return { uid, gid };
}

function run(o, cmd, argv, what) {
  const r = spawnSync(cmd, argv, { ...o.ids, cwd: o["floor-dir"], encoding: "utf8", env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" } });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr || r.stdout}`);
}

function initdb(o, dir) {
  run(o, path.join(o.bin, "initdb"), ["-D", dir, "-U", ADMIN, `--pwfile=${o.pwfile}`, "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-instructions"], "initdb");
}

function copy(o, from, to) {
  run(o, "cp", ["-a", from, to], "cp -a");
}

function serverOpts(ip) {
  return ["-c", `listen_addresses=${ip}`, "-c", "port=5432", "-c", "unix_socket_directories="];
}

function pgCtlStart(o, dir, ip) {
  run(o, path.join(o.bin, "pg_ctl"), ["-D", dir, "-w", "-l", `${dir}.log`, "-o", serverOpts(ip).join(" ").replace("unix_socket_directories=", "unix_socket_directories=''"), "start"], "pg_ctl start");
}

function stopAndRemove(o, dir) {
  spawnSync(path.join(o.bin, "pg_ctl"), ["-D", dir, "-m", "immediate", "-w", "stop"], { ...o.ids, cwd: o["floor-dir"], encoding: "utf8" });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`${dir}.log`, { force: true });
}

async function floorA(o, k, ip) {
  const dir = path.join(o["floor-dir"], `a${k}`);
  const t0 = now();
  initdb(o, dir);
  pgCtlStart(o, dir, ip);
  await firstQuery(ip, ADMIN, PASSWORD);
  const total = now() - t0;
  stopAndRemove(o, dir);
  return total;
}

async function floorB(o, k, ip) {
  const dir = path.join(o["floor-dir"], `b${k}`);
  const t0 = now();
  copy(o, o.prepared, dir);
  pgCtlStart(o, dir, ip);
  await firstQuery(ip, ADMIN, PASSWORD);
  const total = now() - t0;
  stopAndRemove(o, dir);
  return total;
}

/** Floor c (copy timed) or, with precopied, floor d: the copy is made
 *  before the clock starts, as pgfleetd's spare copies are. */
async function floorC(o, k, ip, precopied = false) {
  const dir = path.join(o["floor-dir"], `${precopied ? "d" : "c"}${k}`);
  if (precopied) copy(o, o.prepared, dir);
  const t0 = now();
  if (!precopied) copy(o, o.prepared, dir);
  const child = spawn(path.join(o.bin, "postgres"), ["-D", dir, ...serverOpts(ip)], {
    ...o.ids,
    cwd: o["floor-dir"],
    detached: true,
    stdio: "ignore",
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  child.unref();
  for (;;) {
    try {
      await firstQuery(ip, ADMIN, PASSWORD);
      break;
    } catch (e) {
      if (now() - t0 > 30000) throw new Error(`floor c/d: no connection after 30 s: ${e.message}`);
      await sleep(2);
    }
  }
  const total = now() - t0;
  stopAndRemove(o, dir);
  return total;
}

// ---- memory ----

function rollup(pid) {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { pss: kb("Pss"), rss: kb("Rss") };
}

function children(pid) {
  const out = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Memory of one instance: its postmaster and every child. */
function instanceMemory(dataDir, id) {
  const pid = Number(fs.readFileSync(path.join(dataDir, "nodes", `${id}-1`, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  const pids = [pid, ...children(pid)];
  let pss = 0;
  let rss = 0;
  for (const p of pids) {
    try {
      const m = rollup(p);
      pss += m.pss;
      rss += m.rss;
    } catch {
      // a process that ended meanwhile
    }
  }
  return { processes: pids.length, pss_kb: pss, rss_kb: rss };
}

// ---- main ----

async function main() {
  const o = args();
  o.ids = ids(o.user);
  fs.mkdirSync(o["floor-dir"], { recursive: true });
  fs.chownSync(o["floor-dir"], o.ids.uid, o.ids.gid);
  o.pwfile = path.join(o["floor-dir"], "pw");
  fs.writeFileSync(o.pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  fs.chownSync(o.pwfile, o.ids.uid, o.ids.gid);
  const ip = (k) => `${o["floor-net"]}.${k + 1}`;

  const c = client(o);
  const result = { date: new Date().toISOString(), loadavg_start: os.loadavg(), n: o.n, poll_ms: POLL_MS };

  // warm-up: the daemon builds its UTF8 template on the first creation; the
  // floors get their binaries and the prepared cluster into the page cache
  const cold = await daemonSample(c, "bench-warmup");
  result.cold_first_creation_ms = cold.total;
  o.prepared = path.join(o["floor-dir"], "prepared");
  initdb(o, o.prepared);
  await floorA(o, "w", ip(200));
  await floorB(o, "w", ip(201));
  await floorC(o, "w", ip(202));
  await floorC(o, "w", ip(203), true);

  const d = [];
  const a = [];
  const b = [];
  const cc = [];
  const dd = [];
  const created = [cold.id];
  for (let k = 0; k < o.n; k++) {
    const s = await daemonSample(c, `bench-${k}`);
    created.push(s.id);
    d.push(s);
    a.push(await floorA(o, k, ip(k)));
    b.push(await floorB(o, k, ip(50 + k)));
    cc.push(await floorC(o, k, ip(100 + k)));
    dd.push(await floorC(o, k, ip(150 + k), true));
  }
  result.pgfleetd = {
    create_to_first_query: stats(d.map((s) => s.total)),
    create_to_running: stats(d.map((s) => s.running)),
    create_accepted: stats(d.map((s) => s.accepted)),
  };
  // back to back: the next creation starts as soon as the previous one
  // answers its first query (its spare refill may still be running)
  const burst = [];
  for (let k = 0; k < o.burst; k++) {
    const s = await daemonSample(c, `bench-burst-${k}`);
    created.push(s.id);
    burst.push(s.total);
  }
  result.pgfleetd.back_to_back_first_query = burst.length ? stats(burst) : null;
  result.floor_a_initdb_start_query = stats(a);
  result.floor_b_copy_start_query = stats(b);
  result.floor_c_copy_postgres_query = stats(cc);
  result.floor_d_precopied_postgres_query = stats(dd);
  result.loadavg_end = os.loadavg();

  // memory of idle instances
  await sleep(o["idle-s"] * 1000);
  const mem = created.map((id) => instanceMemory(o["data-dir"], id));
  result.idle = {
    instances: mem.length,
    idle_s: o["idle-s"],
    processes_per_instance: stats(mem.map((m) => m.processes)).median,
    pss_kb: stats(mem.map((m) => m.pss_kb)),
    rss_kb: stats(mem.map((m) => m.rss_kb)),
  };
  result.instances = created;
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
