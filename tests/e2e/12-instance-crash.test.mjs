// 12-instance-crash: the daemon is killed (SIGKILL) in the middle of
// instance tasks and started again on the same data directory; the tasks
// resume. A creation killed while the template is being built, and one
// killed while the node is being copied, both reach running and accept
// connections. An isolation and a destruction killed half-way finish: no
// process, directory or address of the instance is left, and the freed
// address goes to the next instance (the range holds two addresses). A
// postmaster killed with SIGKILL is restarted by the supervisor (status
// restarting, then running) with its data. A SIGTERM stops the servers and
// the next start brings them back; with keep_instances_running 1 they
// outlive the daemon.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import {
  NOT_FOUND_CODES,
  POLL_MS,
  alive,
  createParams,
  disposeFleet,
  expectOneOf,
  expectRefused,
  fmtMs,
  killDaemon,
  listIds,
  netInfo,
  nodeDir,
  postgresProcessesOf,
  postmasterPid,
  processTable,
  restartFleet,
  sleep,
  sql,
  startFleet,
  waitFor,
  waitStatus,
  withPg,
} from "./lib/instances.mjs";

const DB = "crashdb";
const CREATING = ["applying", "initing", "running"];

let d;
let c;
const inst = {}; // name -> {id, ip}

before(async () => {
  d = await startFleet({ vips: 2 });
  c = d.client();
});

after(async () => {
  // the shutdown tests check that SIGTERM stops the servers; this only makes
  // sure nothing is left whatever happened
  await disposeFleet(d);
});

/** SIGKILL the daemon and start it again on the same data dir. */
async function crashAndRestart(opts) {
  await killDaemon(d);
  d = await restartFleet(d, opts);
  c = d.client();
}

/** Write one row into a fresh database of the instance (the admin has CREATEDB). */
async function writeRow(ip, v) {
  await sql({ host: ip }, `CREATE DATABASE ${DB}`);
  await withPg({ host: ip, database: DB }, async (cl) => {
    await cl.query("CREATE TABLE t (v text)");
    await cl.query("INSERT INTO t VALUES ($1)", [v]);
  });
}

async function readRow(ip) {
  return (await sql({ host: ip, database: DB }, "SELECT v FROM t")).map((r) => r.v);
}

/** Processes still working on a template (initdb and its postgres --boot). */
function templateProcesses() {
  const tpl = path.join(d.dataDir, "templates");
  return processTable().filter((p) => p.state !== "Z" && p.cmd.includes(tpl));
}

describe("daemon killed during instance.create", () => {
  it("right after CreateInstances returns (template being built): resumes to running", async (t) => {
    const t0 = performance.now();
    const r = await c.CreateInstances(createParams({ Name: "crash-a" }));
    const id = r.DBInstanceIdSet[0];
    await crashAndRestart();
    const seen = [];
    const i = await waitStatus(c, id, "running", { seen, allowed: CREATING });
    inst.a = { id, ip: netInfo(i).Ip };
    await writeRow(inst.a.ip, "a");
    t.diagnostic(`killed at once; running ${fmtMs(performance.now() - t0)} after the call (statuses after restart: ${seen})`);
    assert.deepEqual(await readRow(inst.a.ip), ["a"]);
    await waitFor(() => templateProcesses().length === 0, { timeoutMs: 10000, what: "no initdb left running" });
  });

  it("while its node directory is being made: resumes to running", async (t) => {
    const r = await c.CreateInstances(createParams({ Name: "crash-b" }));
    const id = r.DBInstanceIdSet[0];
    const dir = nodeDir(d, id);
    const t0 = performance.now();
    await waitFor(() => fs.existsSync(dir), { intervalMs: 2, timeoutMs: 10000, what: `${dir} to appear` });
    await crashAndRestart();
    const seen = [];
    const i = await waitStatus(c, id, "running", { seen, allowed: CREATING });
    inst.b = { id, ip: netInfo(i).Ip };
    t.diagnostic(`killed when ${dir} appeared; running ${fmtMs(performance.now() - t0)} later (statuses after restart: ${seen})`);
    assert.notEqual(inst.b.ip, inst.a.ip);
    await writeRow(inst.b.ip, "b");
    assert.deepEqual(await readRow(inst.b.ip), ["b"]);
  });

  it("each instance has exactly one postmaster", () => {
    for (const { id } of [inst.a, inst.b]) {
      const pms = processTable().filter((p) => p.state !== "Z" && p.cmd.includes(`${nodeDir(d, id)}/data`));
      assert.equal(pms.length, 1, `one postmaster of ${id}: ${JSON.stringify(pms)}`);
      assert.equal(pms[0].pid, postmasterPid(d, id));
    }
  });
});

describe("supervisor", () => {
  it("a postmaster killed with SIGKILL: restarting, then running within a few seconds, data kept", async (t) => {
    const { id, ip } = inst.a;
    const pid = postmasterPid(d, id);
    const t0 = performance.now();
    process.kill(pid, "SIGKILL");
    const seen = [];
    await waitStatus(c, id, "restarting", { seen, allowed: ["running", "restarting"], timeoutMs: 5000 });
    const tRestarting = performance.now() - t0;
    await waitStatus(c, id, "running", { seen, allowed: ["restarting", "running"], timeoutMs: 10000 });
    const tRunning = performance.now() - t0;
    t.diagnostic(`restarting after ${fmtMs(tRestarting)}, running after ${fmtMs(tRunning)} (supervise_ms 1000)`);
    assert.ok(tRunning < 5000, `running again within 5 s (took ${fmtMs(tRunning)})`);
    assert.notEqual(postmasterPid(d, id), pid, "a new postmaster");
    assert.deepEqual(await readRow(ip), ["a"]);
  });
});

describe("daemon stopped with SIGTERM", () => {
  it("stops the servers; the next start brings them back with their data", async () => {
    await d.stop({ check: false });
    for (const { id } of [inst.a, inst.b]) assert.deepEqual(postgresProcessesOf(nodeDir(d, id)), [], `${id} stopped with the daemon`);
    await expectRefused(inst.a.ip);
    d = await restartFleet(d);
    c = d.client();
    for (const { id, ip } of [inst.a, inst.b]) {
      await waitFor(() => withPg({ host: ip, database: DB }, (cl) => cl.query("SELECT 1")).then(() => true, () => false), {
        timeoutMs: 15000,
        what: `${id} to accept connections again`,
      });
      // the server may accept connections a moment before its recover task commits "running"
      await waitFor(async () => (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance.DBInstanceStatus === "running", {
        timeoutMs: 5000,
        what: `${id} to be reported running again`,
      });
    }
    assert.deepEqual(await readRow(inst.a.ip), ["a"]);
  });

  it("with keep_instances_running 1 the postmasters outlive the daemon", async () => {
    await d.stop({ check: false });
    d = await restartFleet(d, { config: { keep_instances_running: 1 } });
    c = d.client();
    await waitFor(async () => fs.existsSync(path.join(nodeDir(d, inst.a.id), "data", "postmaster.pid")) && (await readyOrNot(inst.a.ip)), {
      timeoutMs: 15000,
      what: "a to run again",
    });
    const pid = postmasterPid(d, inst.a.id);
    await d.stop({ check: false });
    assert.ok(alive(pid), "the postmaster survived the SIGTERM");
    await readRow(inst.a.ip);
    d = await restartFleet(d, { config: { keep_instances_running: 0 } });
    c = d.client();
    await sleep(1500); // a supervisor pass or more
    assert.equal(postmasterPid(d, inst.a.id), pid, "the new daemon adopted the running postmaster");
    assert.equal((await c.DescribeDBInstanceAttribute({ DBInstanceId: inst.a.id })).DBInstance.DBInstanceStatus, "running");
  });
});

async function readyOrNot(ip) {
  return withPg({ host: ip }, (cl) => cl.query("SELECT 1")).then(
    () => true,
    () => false,
  );
}

describe("daemon killed during isolation and destruction", () => {
  it("isolation killed half-way finishes after the restart", async () => {
    await c.IsolateDBInstances({ DBInstanceIdSet: [inst.b.id] });
    await crashAndRestart();
    await waitStatus(c, inst.b.id, "isolated", { allowed: ["running", "isolating", "isolated"] });
    assert.deepEqual(postgresProcessesOf(nodeDir(d, inst.b.id)), [], "no server of an isolated instance");
    await expectRefused(inst.b.ip);
  });

  it("destruction killed half-way finishes: record, processes, directory and address gone", async () => {
    const { id, ip } = inst.b;
    const dir = nodeDir(d, id);
    await c.DestroyDBInstance({ DBInstanceId: id });
    await crashAndRestart();
    await waitFor(async () => !(await listIds(c)).includes(id), { timeoutMs: 15000, what: `${id} to be destroyed` });
    await expectOneOf(c.DescribeDBInstanceAttribute({ DBInstanceId: id }), NOT_FOUND_CODES, "reading the destroyed instance");
    assert.deepEqual(postgresProcessesOf(dir), [], `no process of ${dir}`);
    assert.ok(!fs.existsSync(dir), `${dir} is removed`);
    await expectRefused(ip);
  });

  it("the freed address goes to the next instance (the range holds two)", async () => {
    const r = await c.CreateInstances(createParams({ Name: "crash-c" }));
    const id = r.DBInstanceIdSet[0];
    const i = await waitStatus(c, id, "running", { allowed: CREATING });
    inst.c = { id, ip: netInfo(i).Ip };
    assert.equal(inst.c.ip, inst.b.ip, "the destroyed instance's address was released and reused");
    await sql({ host: inst.c.ip }, "SELECT 1");
    assert.deepEqual((await listIds(c)).sort(), [inst.a.id, inst.c.id].sort(), "no duplicate or lost instance");
  });

  it("a destroyed id cannot be acted on", async () => {
    await expectOneOf(c.RestartDBInstance({ DBInstanceId: inst.b.id }), NOT_FOUND_CODES, "restarting a destroyed instance");
    await expectCode(c.DestroyDBInstance({ DBInstanceId: inst.a.id }), "OperationDenied.InstanceStatusLimitError", "destroying a running one");
  });
});

describe("shutdown", () => {
  it("SIGTERM stops every server of the data dir", async () => {
    await d.stop({ check: false });
    await waitFor(() => postgresProcessesOf(d.dataDir).length === 0, { timeoutMs: 5000, intervalMs: POLL_MS, what: "no server left" });
  });

  it("the last daemon exited 0 without a sanitizer report", async () => {
    await d.stop();
  });
});
