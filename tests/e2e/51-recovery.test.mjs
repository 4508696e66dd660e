// 51-recovery: the recovery window and clones. Rows written with known
// commit times, a base backup, more rows, a time T, more rows: a clone to T
// has exactly the rows committed before T, on its own address, with the
// source's accounts and its own superuser password; a clone from the backup
// set has the rows of the backup's time. Bad recovery targets and another
// tenant's backups get the documented errors. Retention on the business
// clock (moved 8 days by the operator): expired base backups and WAL
// disappear, the scheduler catches up the missed backup windows, the window
// moves, and a clone inside the new window works.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import { clockAdvance } from "./lib/billing.mjs";
import {
  ADMIN,
  ADMIN_PW,
  NOT_FOUND_CODES,
  connectError,
  createInstance,
  disposeFleet,
  expectOneOf,
  netInfo,
  sleep,
  sql,
  startFleet,
  waitFor,
  waitStatus,
  withPg,
} from "./lib/instances.mjs";
import { baseBackups, fmt, ids, logBackups, parse, takeBackup, waitWindowEnd } from "./lib/backups.mjs";

const CONFIG = { backup_check_s: 1, backup_first_delay_s: 3600, backup_archive_timeout_s: 1 };
const INVALID = "InvalidParameterValue.InvalidParameterValueError";
const DAY = 86400;

let d;
let c;
let S; // the source instance {id, ip}
let B1; // its first base backup (rows 1-5)
let T; // unix seconds: rows 1-10 were committed before it, 11-15 after

before(async () => {
  d = await startFleet({ config: CONFIG });
  c = d.client();
  S = await createInstance(c);
  await withPg({ host: S.ip }, async (cl) => {
    await cl.query("CREATE TABLE t (id int PRIMARY KEY, ts timestamptz DEFAULT clock_timestamp())");
    await cl.query("INSERT INTO t (id) SELECT generate_series(1, 5)");
  });
});

after(async () => {
  await disposeFleet(d);
});

/** Clone `over` (BackupSetId or RecoveryTargetTime) of the source and wait for it to run. */
async function clone(over, spec = {}) {
  const r = await c.CloneDBInstance({
    DBInstanceId: S.id, SpecCode: "cdb.pg.z1.2g", Storage: 10, Period: 1, AutoRenewFlag: 0,
    VpcId: "vpc-e2e", SubnetId: "subnet-e2e", InstanceChargeType: "POSTPAID_BY_HOUR", ...spec, ...over,
  });
  assert.match(r.DBInstanceId, /^postgres-[a-z0-9]{8}$/);
  const seen = [];
  const inst = await waitStatus(c, r.DBInstanceId, "running", { seen, allowed: ["applying", "initing", "running"], timeoutMs: 120000 });
  return { id: r.DBInstanceId, ip: netInfo(inst).Ip, inst, seen, deal: r.DealName };
}

describe("point-in-time recovery", () => {
  it("the window runs from the first usable base backup to the newest archived WAL", async () => {
    const w0 = await c.DescribeAvailableRecoveryTime({ DBInstanceId: S.id });
    assert.deepEqual([w0.RecoveryBeginTime, w0.RecoveryEndTime], ["", ""], "no base backup yet: no window");
    B1 = await takeBackup(c, S.id);
    await sql({ host: S.ip }, "INSERT INTO t (id) SELECT generate_series(6, 10)");
    T = Math.floor(Date.now() / 1000) + 1; // rows 6-10 are committed before T
    while (Date.now() < (T + 1) * 1000 + 100) await sleep(50);
    await sql({ host: S.ip }, "INSERT INTO t (id) SELECT generate_series(11, 15)");
    const w = await waitWindowEnd(c, S.id, T + 1);
    assert.ok(parse(w.RecoveryBeginTime) > parse(B1.StartTime) && parse(w.RecoveryBeginTime) <= parse(B1.FinishTime) + 1,
      `begins when the backup ended (${w.RecoveryBeginTime}, backup ${B1.StartTime} - ${B1.FinishTime})`);
    assert.ok(parse(w.RecoveryEndTime) <= Date.now() / 1000 + 1);
  });

  it("a clone to time T has exactly the rows committed before T", async () => {
    const cl = await clone({ RecoveryTargetTime: fmt(T) });
    assert.notEqual(cl.ip, S.ip, "its own address");
    assert.deepEqual(await ids(cl.ip), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const commits = await sql({ host: cl.ip }, "SELECT max(ts) AS m FROM t");
    assert.ok(new Date(commits[0].m).getTime() < T * 1000);
    // the source's accounts (read over SQL by the service, which reaches the
    // clone as its superuser with the clone's own password, reset after
    // recovery), and the clone is writable
    const accounts = (await c.DescribeAccounts({ DBInstanceId: cl.id })).Details.map((a) => a.UserName);
    assert.ok(accounts.includes(ADMIN), `accounts: ${accounts}`);
    await sql({ host: cl.ip, user: ADMIN, password: ADMIN_PW }, "INSERT INTO t (id) VALUES (1000)");
    assert.equal(cl.inst.DBInstanceStorage, 10);
    assert.ok(cl.deal, "the clone is an order");
    // a wrong password is refused as on any instance
    assert.equal((await connectError({ host: cl.ip, user: ADMIN, password: "Wrong_pass1" })).code, "28P01");
    // the source is untouched
    assert.deepEqual(await ids(S.ip), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // and the clone is protected in turn
    await waitFor(async () => (await logBackups(c, cl.id)).length > 0, { timeoutMs: 20000, what: "the clone archiving" });
  });

  it("a clone from a backup set has the rows of the backup's time", async () => {
    const cl = await clone({ BackupSetId: B1.Id }, { SpecCode: "cdb.pg.z1.4g", Storage: 20 });
    assert.deepEqual(await ids(cl.ip), [1, 2, 3, 4, 5]);
    assert.equal(cl.inst.DBInstanceClass, "cdb.pg.z1.4g");
    assert.equal(cl.inst.DBInstanceStorage, 20);
  });

  it("DescribeCloneDBInstanceSpec gives the least a clone needs", async () => {
    const r = await c.DescribeCloneDBInstanceSpec({ DBInstanceId: S.id, BackupSetId: B1.Id });
    assert.equal(r.MinSpecCode, "cdb.pg.z1.2g");
    assert.ok(r.MinStorage >= 1);
    const r2 = await c.DescribeCloneDBInstanceSpec({ DBInstanceId: S.id, RecoveryTargetTime: fmt(T) });
    assert.equal(r2.MinSpecCode, "cdb.pg.z1.2g");
  });

  it("refuses targets outside the window, malformed ones and unknown or foreign backups", async () => {
    const w = await c.DescribeAvailableRecoveryTime({ DBInstanceId: S.id });
    const bad = [
      { RecoveryTargetTime: fmt(parse(w.RecoveryBeginTime) - 60) },
      { RecoveryTargetTime: fmt(parse(w.RecoveryEndTime) + 3600) },
      { RecoveryTargetTime: "2021-12-25T01:27:35" },
      { RecoveryTargetTime: "2021-02-30 01:27:35" },
      { RecoveryTargetTime: "now" },
      { BackupSetId: "00000000-0000-4000-8000-000000000000" },
      { BackupSetId: "../../etc" },
      { BackupSetId: B1.Id, RecoveryTargetTime: fmt(T) },
      {},
    ];
    for (const over of bad) {
      await expectCode(clone(over), INVALID, `CloneDBInstance ${JSON.stringify(over)}`);
      if (Object.keys(over).length === 1) await expectCode(c.DescribeCloneDBInstanceSpec({ DBInstanceId: S.id, ...over }), INVALID);
    }
    await expectCode(clone({ BackupSetId: B1.Id }, { SpecCode: "cdb.pg.nope" }), "InvalidParameterValue.SpecNotRecognizedError");
    await expectCode(clone({ BackupSetId: B1.Id }, { Storage: 100000 }), INVALID);
    await expectCode(clone({ BackupSetId: B1.Id }, { Period: 13 }), "InvalidParameterValue");
    await expectCode(clone({ BackupSetId: B1.Id }, { DBNodeSet: [{ Role: "Standby", Zone: "ap-guangzhou-3" }] }), "UnsupportedOperation");
    await expectOneOf(c.DescribeAvailableRecoveryTime({ DBInstanceId: "postgres-nope0000" }), NOT_FOUND_CODES);
    const other = d.client(await d.tenantCreate("stranger"));
    await expectOneOf(other.CloneDBInstance({
      DBInstanceId: S.id, SpecCode: "cdb.pg.z1.2g", Storage: 10, Period: 1, AutoRenewFlag: 0, VpcId: "vpc-x",
      SubnetId: "subnet-x", BackupSetId: B1.Id,
    }), NOT_FOUND_CODES);
    await expectOneOf(other.DescribeAvailableRecoveryTime({ DBInstanceId: S.id }), NOT_FOUND_CODES);
    // a backup of another instance (even the caller's own) is not this instance's backup set
    const mine = await createInstance(other);
    const theirs = await takeBackup(other, mine.id);
    await expectCode(clone({ BackupSetId: theirs.Id }), INVALID, "another tenant's backup set");
    await expectCode(c.DescribeCloneDBInstanceSpec({ DBInstanceId: S.id, BackupSetId: theirs.Id }), INVALID);
  });
});

describe("retention on the business clock", () => {
  it("expired backups and WAL disappear, missed windows are caught up, the window moves, and a clone in it works", async () => {
    const before0 = await baseBackups(c, S.id);
    const oldLogs = (await logBackups(c, S.id)).filter((l) => l.State === "finished" && !l.Name.endsWith(".history.gz"));
    assert.ok(before0.length >= 1 && oldLogs.length >= 1);
    const { offset } = await clockAdvance(d, 8 * DAY);
    const now = () => Math.floor(Date.now() / 1000) + offset;
    // the old base backups (7 days) and log backups (7 days) expire...
    await waitFor(async () => {
      const bases = await baseBackups(c, S.id);
      return !bases.some((b) => before0.some((o) => o.Id === b.Id));
    }, { timeoutMs: 30000, what: "the old base backups expired" });
    await waitFor(async () => {
      const logs = await logBackups(c, S.id);
      return !logs.some((l) => oldLogs.some((o) => o.Id === l.Id));
    }, { timeoutMs: 30000, what: "the old log backups expired" });
    // ...and the scheduler takes the backup the missed windows called for
    const auto = await waitFor(async () => (await baseBackups(c, S.id)).find((b) => b.BackupMode === "automatic" && b.State === "finished"),
      { timeoutMs: 30000, what: "a catch-up automatic backup" });
    assert.ok(parse(auto.StartTime) >= now() - 60, `taken on the moved clock (${auto.StartTime})`);
    assert.equal(parse(auto.ExpireTime) - parse(auto.FinishTime), 7 * DAY);
    // the window moved to the new backup
    await sql({ host: S.ip }, "INSERT INTO t (id) SELECT generate_series(16, 20)");
    const t2 = now() + 1;
    while (now() < t2 + 1 || Date.now() % 1000 < 100) await sleep(50);
    await sql({ host: S.ip }, "INSERT INTO t (id) SELECT generate_series(21, 25)");
    const w = await waitWindowEnd(c, S.id, t2 + 1);
    assert.ok(parse(w.RecoveryBeginTime) >= parse(auto.FinishTime), `the window begins at the new backup (${w.RecoveryBeginTime})`);
    await expectCode(clone({ RecoveryTargetTime: fmt(parse(auto.StartTime) - 3600) }), INVALID, "before the moved window");
    const cl = await clone({ RecoveryTargetTime: fmt(t2) });
    assert.deepEqual(await ids(cl.ip), [...Array(20).keys()].map((i) => i + 1));
  });
});
