// 31-specs: changes that really change the server, through the official
// SDK and `pg`, with switch windows on the business clock (moved by the
// operator's `pgfleetd clock-advance`, never the public API).
//
// ModifyDBInstanceSpec with SwitchTag 0 restarts the server with settings
// derived from the new memory (SHOW shared_buffers) and storage (SHOW
// max_wal_size, DBInstanceStorage: the quota), cores limited through the
// cpu cgroup where the machine can; SwitchTag 1 waits in waitSwitch until
// its window (or ModifySwitchTimePeriod), SwitchTag 2 until the
// maintenance window. Shrinking below the data already stored is refused.
// UpgradeDBInstanceKernelVersion checks (DryRun) and restarts the server on
// an installed kernel; ModifyDBInstanceDeployment records the node zones.
// TDE is refused and DescribeEncryptionKeys is empty. Bad input gets the
// documented codes and changes nothing.

import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import { BOOK, clockAdvance, clockShow, ledger, timeOfDay } from "./lib/billing.mjs";
import {
  createInstance,
  createParams,
  disposeFleet,
  postmasterPid,
  sleep,
  sql,
  startFleet,
  waitFor,
  waitStatus,
  withPg,
} from "./lib/instances.mjs";

// A catalog whose small specs start at 1 GB, so that a test can store more
// than a smaller Storage holds without writing gigabytes.
const CATALOG = {
  regions: [{ Region: "ap-guangzhou", RegionName: "Guangzhou", RegionId: 1 }],
  zones: [
    { Zone: "ap-guangzhou-3", Region: "ap-guangzhou", ZoneName: "Guangzhou Zone 3", ZoneId: 100003 },
    { Zone: "ap-guangzhou-6", Region: "ap-guangzhou", ZoneName: "Guangzhou Zone 6", ZoneId: 100006 },
  ],
  specs: [
    { SpecCode: "cdb.pg.z1.2g", Cpu: 1, Memory: 2048, MinStorage: 1, MaxStorage: 100, Qps: 2100 },
    { SpecCode: "cdb.pg.z1.4g", Cpu: 2, Memory: 4096, MinStorage: 1, MaxStorage: 200, Qps: 4100 },
    { SpecCode: "cdb.pg.sh1.4g", Cpu: 1, Memory: 4096, MinStorage: 1, MaxStorage: 200, Qps: 3000 },
  ],
};
const MAINT = "02:00:00-03:00:00";

let d;
let c;
let x; // the instance whose spec changes
let kernel; // the installed kernel version of major 15

before(async () => {
  d = await startFleet({ config: { supervise_ms: 200, pricing: BOOK, catalog: CATALOG, maintenance_window: MAINT } });
  c = d.client();
  x = await createInstance(c, { Storage: 10, InstanceChargeType: "POSTPAID_BY_HOUR" });
  const versions = (await c.DescribeDBVersions({})).VersionSet.filter((v) => v.DBMajorVersion === "15");
  kernel = versions[versions.length - 1].DBKernelVersion;
});

after(async () => {
  // a clean SIGTERM exit without sanitizer reports, then nothing left behind
  try {
    await d.stop();
  } finally {
    await disposeFleet(d);
  }
});

const attr = async (id) => (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance;
const show = async (ip, name) => (await sql({ host: ip }, `SHOW ${name}`))[0][name];

/** The CPU quota (cores) of the cgroup the postmaster runs in; null when not limited. */
function cpuLimit(pid) {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => /^\d+:([^:]*,)?cpu(,[^:]*)?:/.test(l) || l.startsWith("0::"));
  if (!line || !line.includes("/pgfleet/")) return null;
  const rel = line.slice(line.indexOf(":", line.indexOf(":") + 1) + 1);
  for (const f of [`/sys/fs/cgroup/cpu${rel}/cpu.cfs_quota_us`, `/sys/fs/cgroup/cpu,cpuacct${rel}/cpu.cfs_quota_us`, `/sys/fs/cgroup${rel}/cpu.max`]) {
    if (fs.existsSync(f)) return Number(fs.readFileSync(f, "utf8").trim().split(" ")[0]) / 100000;
  }
  return null;
}

/** A switch window starting `fromS` seconds after business now, 1 h long. */
async function windowIn(fromS) {
  const now = (await clockShow(d)).now;
  return { SwitchStartTime: timeOfDay(now + fromS), SwitchEndTime: timeOfDay(now + fromS + 3600) };
}

describe("ModifyDBInstanceSpec, SwitchTag 0", () => {
  it("the server restarts with the new memory, storage and cores", async (t) => {
    const id = x.id;
    assert.equal(await show(x.ip, "shared_buffers"), "512MB");
    assert.equal(await show(x.ip, "max_wal_size"), "512MB");
    const pid = postmasterPid(d, id);
    const r = await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 4, Storage: 20, Cpu: 2 });
    assert.match(r.DealName, /^\d{20}$/);
    assert.match(r.BillId, /^\d{18}$/);
    const seen = [];
    const i = await waitStatus(c, id, "running", { seen, allowed: ["running", "expanding", "switching"] });
    t.diagnostic(`statuses ${seen}`);
    assert.deepEqual([i.DBInstanceClass, i.DBInstanceMemory, i.DBInstanceCpu, i.DBInstanceStorage], ["cdb.pg.z1.4g", 4, 2, 20]);
    assert.notEqual(postmasterPid(d, id), pid, "a new postmaster");
    assert.equal(await show(x.ip, "shared_buffers"), "1GB", "memory/4");
    assert.equal(await show(x.ip, "max_wal_size"), "1GB", "storage/20: the quota moved with it");
    const o = await c.DescribeOrders({ DealNames: [r.DealName] });
    assert.equal(o.Deals[0].PayMode, 0);
    assert.ok(o.Deals[0].FlowId > 0);
    const cores = cpuLimit(postmasterPid(d, id));
    if (cores === null) t.diagnostic("this machine cannot limit CPU: cores recorded only");
    else assert.equal(cores, 2, "the postmaster's cgroup allows 2 cores");
  });

  it("Cpu picks between specs of the same memory; without it the instance's cores are kept", async () => {
    const id = x.id;
    await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 4, Storage: 20, Cpu: 1 });
    let i = await waitStatus(c, id, "running", { allowed: ["running", "expanding", "switching"] });
    assert.deepEqual([i.DBInstanceClass, i.DBInstanceCpu], ["cdb.pg.sh1.4g", 1]);
    await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 4, Storage: 30 });
    i = await waitStatus(c, id, "running", { allowed: ["running", "expanding", "switching"] });
    assert.deepEqual([i.DBInstanceClass, i.DBInstanceStorage], ["cdb.pg.sh1.4g", 30]);
  });

  it("UpgradeDBInstance grows; it refuses to shrink (FailedOperation.StorageMemoryCheckError)", async () => {
    const id = x.id;
    await expectCode(c.request("UpgradeDBInstance", { DBInstanceId: id, Memory: 2, Storage: 30 }), "FailedOperation.StorageMemoryCheckError");
    const r = await c.request("UpgradeDBInstance", { DBInstanceId: id, Memory: 4, Storage: 40 });
    assert.match(r.DealName, /^\d{20}$/);
    const i = await waitStatus(c, id, "running", { allowed: ["running", "expanding", "switching"] });
    assert.equal(i.DBInstanceStorage, 40);
  });
});

describe("switch windows", () => {
  it("SwitchTag 1 waits in waitSwitch until ModifySwitchTimePeriod switches it now", async () => {
    const id = x.id;
    const r = await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 2, Storage: 10, SwitchTag: 1, ...(await windowIn(2 * 3600)) });
    assert.match(r.DealName, /^\d{20}$/);
    assert.equal((await attr(id)).DBInstanceStatus, "waitSwitch");
    await sleep(1000); // several supervisor passes: nothing happens before the window
    const i = await attr(id);
    assert.equal(i.DBInstanceStatus, "waitSwitch");
    assert.equal(i.DBInstanceMemory, 4);
    assert.equal(await show(x.ip, "shared_buffers"), "1GB", "the server still runs the old spec");
    await expectCode(c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 4, Storage: 20 }), "OperationDenied.InstanceStatusLimitError");
    await c.ModifySwitchTimePeriod({ DBInstanceId: id, SwitchTag: 0 });
    const j = await waitStatus(c, id, "running", { allowed: ["waitSwitch", "running", "expanding", "switching"] });
    assert.deepEqual([j.DBInstanceMemory, j.DBInstanceStorage], [2, 10]);
    assert.equal(await show(x.ip, "shared_buffers"), "512MB");
  });

  it("SwitchTag 1 switches by itself when the business clock enters the window", async () => {
    const id = x.id;
    await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 4, Storage: 20, Cpu: 2, SwitchTag: 1, ...(await windowIn(3 * 3600)) });
    assert.equal((await attr(id)).DBInstanceStatus, "waitSwitch");
    await clockAdvance(d, 3 * 3600 + 60);
    const i = await waitStatus(c, id, "running", { allowed: ["waitSwitch", "running", "expanding", "switching"] });
    assert.equal(i.DBInstanceMemory, 4);
    assert.equal(await show(x.ip, "shared_buffers"), "1GB");
  });

  it("SwitchTag 2 waits for the maintenance window", async () => {
    const id = x.id;
    await c.ModifyDBInstanceSpec({ DBInstanceId: id, Memory: 2, Storage: 20, SwitchTag: 2 });
    assert.equal((await attr(id)).DBInstanceStatus, "waitSwitch");
    // move business time to 02:00:30 of the next day (the window is 02:00-03:00)
    const now = (await clockShow(d)).now;
    const dt = new Date(now * 1000);
    const next = new Date(dt.getFullYear(), dt.getMonth(), dt.getDate() + 1, 2, 0, 30).getTime() / 1000;
    await clockAdvance(d, Math.round(next - now));
    const i = await waitStatus(c, id, "running", { allowed: ["waitSwitch", "running", "expanding", "switching"] });
    assert.equal(i.DBInstanceMemory, 2);
  });

  it("ModifySwitchTimePeriod on an instance that waits for nothing is refused", async () => {
    await expectCode(c.ModifySwitchTimePeriod({ DBInstanceId: x.id, SwitchTag: 0 }), "OperationDenied.InstanceStatusLimitOpError");
  });
});

describe("bad input changes nothing and orders nothing", () => {
  const cases = [
    ["an unknown memory size", { Memory: 3, Storage: 10 }, "InvalidParameterValue.InvalidParameterValueError"],
    ["a Cpu no spec has with that memory", { Memory: 4, Storage: 10, Cpu: 8 }, "InvalidParameterValue.InvalidParameterValueError"],
    ["storage above the spec's range", { Memory: 2, Storage: 101 }, "InvalidParameterValue.InvalidParameterValueError"],
    ["storage below the spec's range", { Memory: 2, Storage: 0 }, "InvalidParameterValue.InvalidParameterValueError"],
    ["no change at all", { Memory: 2, Storage: 20 }, "InvalidParameterValue.InvalidParameterValueError"],
    ["a window shorter than 30 minutes", { Memory: 4, Storage: 20, SwitchTag: 1, SwitchStartTime: "01:00:00", SwitchEndTime: "01:29:00" },
      "InvalidParameterValue.InvalidParameterValueError"],
    ["a badly formatted window", { Memory: 4, Storage: 20, SwitchTag: 1, SwitchStartTime: "1:00", SwitchEndTime: "02:00:00" },
      "InvalidParameterValue.InvalidParameterValueError"],
    ["a window without its end", { Memory: 4, Storage: 20, SwitchTag: 1, SwitchStartTime: "01:00:00" },
      "InvalidParameterValue.InvalidParameterValueError"],
    ["SwitchTag 3", { Memory: 4, Storage: 20, SwitchTag: 3 }, "InvalidParameterValue"],
  ];
  for (const [what, params, code] of cases) {
    it(`ModifyDBInstanceSpec: ${what} -> ${code}`, async () => {
      const before = await attr(x.id);
      const orders = (await ledger(d, x.id)).length;
      await expectCode(c.ModifyDBInstanceSpec({ DBInstanceId: x.id, ...params }), code);
      const after = await attr(x.id);
      assert.deepEqual([after.DBInstanceStatus, after.DBInstanceClass, after.DBInstanceStorage],
        [before.DBInstanceStatus, before.DBInstanceClass, before.DBInstanceStorage]);
      assert.equal((await ledger(d, x.id)).length, orders, "no order");
    });
  }

  it("storage below the data already stored -> FailedOperation.PreCheckError", async (t) => {
    const y = await createInstance(c, { Storage: 2, InstanceChargeType: "POSTPAID_BY_HOUR" });
    // ~1.2 GB of incompressible rows (STORAGE PLAIN: no TOAST compression)
    await withPg({ host: y.ip }, async (cl) => {
      await cl.query("SET statement_timeout = 0");
      await cl.query("CREATE UNLOGGED TABLE big (pad text)");
      await cl.query("ALTER TABLE big ALTER COLUMN pad SET STORAGE PLAIN");
      for (let i = 0; i < 4; i++) await cl.query("INSERT INTO big SELECT repeat(md5(g::text), 60) FROM generate_series(1, 150000) g");
    });
    const orders = (await ledger(d, y.id)).length;
    await expectCode(c.ModifyDBInstanceSpec({ DBInstanceId: y.id, Memory: 2, Storage: 1 }), "FailedOperation.PreCheckError");
    const i = await attr(y.id);
    assert.deepEqual([i.DBInstanceStatus, i.DBInstanceStorage], ["running", 2]);
    assert.equal((await ledger(d, y.id)).length, orders, "no order");
    t.diagnostic("a 2 GB instance holding ~1.2 GB cannot shrink to 1 GB");
  });
});

describe("UpgradeDBInstanceKernelVersion", () => {
  it("DryRun checks and changes nothing", async () => {
    const pid = postmasterPid(d, x.id);
    const r = await c.UpgradeDBInstanceKernelVersion({ DBInstanceId: x.id, TargetDBKernelVersion: kernel, DryRun: true });
    assert.equal(r.TaskId, 0);
    assert.equal((await attr(x.id)).DBInstanceStatus, "running");
    assert.equal(postmasterPid(d, x.id), pid);
  });

  it("a version this machine does not have is refused (InvalidParameter.ParameterCheckError), DryRun or not", async () => {
    for (const v of ["v15.99_r1.0", "v14.2_r1.0", "nonsense"]) {
      await expectCode(c.UpgradeDBInstanceKernelVersion({ DBInstanceId: x.id, TargetDBKernelVersion: v, DryRun: true }),
        "InvalidParameter.ParameterCheckError");
      await expectCode(c.UpgradeDBInstanceKernelVersion({ DBInstanceId: x.id, TargetDBKernelVersion: v }), "InvalidParameter.ParameterCheckError");
    }
    assert.equal((await attr(x.id)).DBInstanceStatus, "running");
  });

  it("the real run restarts the server on the installed kernel and checks what it reports", async (t) => {
    const pid = postmasterPid(d, x.id);
    const r = await c.UpgradeDBInstanceKernelVersion({ DBInstanceId: x.id, TargetDBKernelVersion: kernel });
    assert.ok(r.TaskId > 0);
    const seen = [];
    const i = await waitStatus(c, x.id, "running", { seen, allowed: ["running", "upgrading", "switching"] });
    t.diagnostic(`statuses ${seen}; kernel ${kernel}`);
    assert.ok(seen.includes("upgrading") || seen.includes("switching") || postmasterPid(d, x.id) !== pid);
    assert.equal(i.DBKernelVersion, kernel);
    assert.notEqual(postmasterPid(d, x.id), pid, "restarted on the target's binaries");
    const v = await show(x.ip, "server_version");
    assert.ok(v.startsWith(i.DBVersion), `server_version ${v} is ${i.DBVersion}`);
  });

  it("SwitchTag 1 waits in waitSwitch like a spec change", async () => {
    await c.UpgradeDBInstanceKernelVersion({ DBInstanceId: x.id, TargetDBKernelVersion: kernel, SwitchTag: 1, ...(await windowIn(5 * 3600)) });
    assert.equal((await attr(x.id)).DBInstanceStatus, "waitSwitch");
    await c.ModifySwitchTimePeriod({ DBInstanceId: x.id, SwitchTag: 0 });
    await waitStatus(c, x.id, "running", { allowed: ["waitSwitch", "running", "upgrading", "switching"] });
  });
});

describe("ModifyDBInstanceDeployment", () => {
  it("records the zones of the primary and the standby, shown in DBNodeSet", async () => {
    const nodes = [{ Role: "Primary", Zone: "ap-guangzhou-6" }, { Role: "Standby", Zone: "ap-guangzhou-3" }];
    const r = await c.ModifyDBInstanceDeployment({ DBInstanceId: x.id, DBNodeSet: nodes, SwitchTag: 0 });
    assert.ok(r.TaskId > 0);
    const i = await waitStatus(c, x.id, "running", { allowed: ["running", "switching"] });
    assert.equal(i.Zone, "ap-guangzhou-6");
    assert.deepEqual(i.DBNodeSet.map((n) => [n.Role, n.Zone]), [["Primary", "ap-guangzhou-6"], ["Standby", "ap-guangzhou-3"]]);
  });

  it("bad placements are refused and nothing changes", async () => {
    const bad = [
      [[{ Role: "Primary", Zone: "ap-shanghai-2" }], "InvalidParameterValue.InvalidZoneIdError"],
      [[{ Role: "Standby", Zone: "ap-guangzhou-3" }], "InvalidParameterValue.InvalidParameterValueError"],
      [[{ Role: "Primary", Zone: "ap-guangzhou-3" }, { Role: "Primary", Zone: "ap-guangzhou-6" }], "InvalidParameterValue.InvalidParameterValueError"],
    ];
    for (const [nodes, code] of bad) await expectCode(c.ModifyDBInstanceDeployment({ DBInstanceId: x.id, DBNodeSet: nodes, SwitchTag: 0 }), code);
    await expectCode(c.ModifyDBInstanceDeployment({
      DBInstanceId: x.id, DBNodeSet: [{ Role: "Primary", Zone: "ap-guangzhou-3" }], SwitchTag: 1, SwitchStartTime: "10:00:00", SwitchEndTime: "10:10:00",
    }), "InvalidParameterValue.InvalidParameterValueError");
    const i = await attr(x.id);
    assert.equal(i.Zone, "ap-guangzhou-6");
    assert.equal(i.DBInstanceStatus, "running");
  });
});

describe("transparent data encryption", () => {
  it("is refused at creation (no TDE in community PostgreSQL 15) and no instance has keys", async () => {
    await expectCode(c.CreateInstances(createParams({ NeedSupportTDE: 1 })), "UnsupportedOperation");
    const r = await c.DescribeEncryptionKeys({ DBInstanceId: x.id });
    assert.deepEqual(r.EncryptionKeys ?? [], []);
    assert.equal((await attr(x.id)).IsSupportTDE, 0);
  });
});
