// 50-backups: continuous WAL archiving (compressed, checksummed, failures
// reported), base backups (manual and from the backup plan's scheduler),
// their listings and the legacy views, overview and summaries measured on
// disk, downloads through signed URLs of the daemon (a base backup restored
// with nothing but tar and pg_ctl; expired, tampered, forbidden and
// out-of-store URLs refused), deletion and expiry times, the documented
// errors for bad input and for another tenant's backups, and a daemon
// killed with SIGKILL (and stopped with SIGTERM) in the middle of a backup.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";

import { UUID_RE, expectCode } from "./lib/daemon.mjs";
import {
  NOT_FOUND_CODES,
  createInstance,
  disposeFleet,
  expectOneOf,
  killDaemon,
  nodeDir,
  restartFleet,
  sleep,
  sql,
  startFleet,
  waitFor,
  withPg,
} from "./lib/instances.mjs";
import {
  baseBackups,
  basebackupProcs,
  download,
  fmt,
  forgeUrl,
  hms,
  ids,
  logBackups,
  parse,
  plainRestore,
  takeBackup,
  waitBase,
} from "./lib/backups.mjs";

const CONFIG = { backup_check_s: 1, backup_first_delay_s: 3600, backup_archive_timeout_s: 2 };
const SEG = 16 * 1024 * 1024;
const DAY = 86400;
const INVALID = "InvalidParameterValue.InvalidParameterValueError";

let d;
let c;
let A; // {id, ip}
let backup; // a finished manual base backup of A

before(async () => {
  d = await startFleet({ config: CONFIG });
  c = d.client();
  A = await createInstance(c);
  await withPg({ host: A.ip }, async (cl) => {
    await cl.query("CREATE TABLE t (id int PRIMARY KEY, ts timestamptz DEFAULT clock_timestamp())");
    await cl.query("INSERT INTO t (id) SELECT generate_series(1, 5)");
  });
});

after(async () => {
  await disposeFleet(d);
});

function walDir(id) {
  return path.join(d.dataDir, "backups", id, "wal");
}

describe("WAL archiving", () => {
  it("archives every instance's WAL into its store, gzip-compressed with a checksum", async () => {
    const confPath = path.join(nodeDir(d, A.id), "data", "pgfleet-backup.conf");
    await waitFor(() => fs.existsSync(confPath), { timeoutMs: 10000, what: "archiving configured" });
    const conf = fs.readFileSync(confPath, "utf8");
    assert.match(conf, /^archive_command = '\/\S+\/bin\/pgfleet-archive push %p %f \S+\/wal \d+'$/m);
    await sql({ host: A.ip }, "INSERT INTO t (id) VALUES (100)");
    const logs = await waitFor(async () => {
      const l = await logBackups(c, A.id);
      return l.some((x) => /^[0-9A-F]{24}\.gz$/.test(x.Name)) && l;
    }, { timeoutMs: 20000, what: "an archived WAL segment" });
    for (const l of logs) {
      assert.equal(l.DBInstanceId, A.id);
      assert.match(l.Id, UUID_RE);
      assert.equal(l.State, "finished");
      assert.equal(l.BackupMethod, "physical");
      assert.equal(l.BackupMode, "automatic");
      assert.ok(l.Size > 0 && l.Size < SEG, `${l.Name} is compressed: ${l.Size} bytes`);
      assert.equal(parse(l.ExpireTime) - parse(l.FinishTime), 7 * DAY, "log backups are kept 7 days by default");
    }
    const seg = logs.find((x) => /^[0-9A-F]{24}\.gz$/.test(x.Name));
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(walDir(A.id), seg.Name)));
    assert.equal(raw.length, SEG, "a log backup decompresses (CRC checked) to a whole WAL segment");
  });

  it("reports an instance whose archiving fails, and recovers from it", async () => {
    // a row first, so that the current position is inside a segment (at a
    // segment's very start pg_walfile_name names the previous one)
    const [{ name }] = await withPg({ host: A.ip }, async (cl) => {
      await cl.query("INSERT INTO t (id) VALUES (101)");
      return (await cl.query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS name")).rows;
    });
    // the archiver's temporary file cannot be created: every push of this segment fails
    const blocker = path.join(walDir(A.id), `.${name}.gz.tmp`);
    fs.mkdirSync(blocker);
    try {
      await sql({ host: A.ip }, "INSERT INTO t (id) VALUES (103)");
      const failed = await waitFor(async () => (await logBackups(c, A.id)).find((l) => l.State === "failed"), {
        timeoutMs: 20000,
        what: "a failed log backup entry",
      });
      assert.equal(failed.Name, name, "the entry names the segment that cannot be archived");
      assert.ok(d.stderr.includes(`WAL archiving fails on ${name}`), "the daemon logs the failure");
    } finally {
      fs.rmdirSync(blocker);
    }
    await sql({ host: A.ip }, "INSERT INTO t (id) VALUES (102)");
    await waitFor(async () => {
      const l = await logBackups(c, A.id);
      return !l.some((x) => x.State === "failed") && l.some((x) => x.Name === `${name}.gz`);
    }, { timeoutMs: 90000, what: "the segment archived and the failure cleared" });
  });
});

describe("base backups", () => {
  it("CreateBaseBackup takes a physical backup with pg_basebackup", async () => {
    const before0 = Math.floor(Date.now() / 1000);
    const { BaseBackupId } = await c.CreateBaseBackup({ DBInstanceId: A.id });
    assert.match(BaseBackupId, UUID_RE);
    backup = await waitBase(c, BaseBackupId);
    assert.equal(backup.DBInstanceId, A.id);
    assert.equal(backup.BackupMethod, "physical");
    assert.equal(backup.BackupMode, "manual");
    assert.match(backup.Name, /^manual-\d{14}\.tar\.zst$/);
    assert.ok(backup.Size > 0);
    assert.ok(parse(backup.StartTime) >= before0 - 1 && parse(backup.FinishTime) >= parse(backup.StartTime));
    assert.equal(parse(backup.ExpireTime) - parse(backup.FinishTime), 7 * DAY);
    const dir = path.join(d.dataDir, "backups", A.id, "base", BaseBackupId);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["backup_manifest", "base.tar.zst"]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "backup_manifest"), "utf8"));
    assert.ok(manifest["WAL-Ranges"].length >= 1 && manifest.Files.length > 100, "a pg_basebackup manifest");
    // the default listing (finished within 7 days, newest first) shows it
    const list = await c.DescribeBaseBackups({});
    assert.equal(list.BaseBackupSet[0].Id, BaseBackupId);
    // the legacy views list it with working download addresses
    const legacy = await c.DescribeDBBackups({ DBInstanceId: A.id, Type: 1, StartTime: fmt(before0 - 60), EndTime: fmt(before0 + 3600) });
    const row = legacy.BackupList.find((b) => b.SetId === BaseBackupId);
    assert.ok(row, "DescribeDBBackups lists it");
    assert.equal(row.Status, 2);
    assert.equal(row.Type, 1);
    assert.ok(row.DbList.includes("postgres"));
    assert.equal((await download(row.InternalAddr)).status, 200);
    const xlogs = await c.DescribeDBXlogs({ DBInstanceId: A.id, StartTime: fmt(before0 - 3600), EndTime: fmt(before0 + 3600) });
    assert.ok(xlogs.TotalCount >= 1 && xlogs.XlogList[0].Size > 0);
    assert.equal((await download(xlogs.XlogList[0].InternalAddr)).status, 200);
  });

  it("a downloaded base backup restores with plain tar and pg_ctl", async () => {
    const { BackupDownloadURL: url } = await c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: backup.Id, URLExpireTime: 1 });
    const got = await download(url);
    assert.equal(got.status, 200);
    assert.equal(got.body.length, backup.Size - fs.statSync(path.join(d.dataDir, "backups", A.id, "base", backup.Id, "backup_manifest")).size);
    assert.match(got.headers["content-disposition"], new RegExp(backup.Name.replace(/\./g, "\\.")));
    const file = path.join(path.dirname(d.dataDir), `${path.basename(d.dataDir)}-${backup.Name}`);
    fs.writeFileSync(file, got.body);
    const srv = await plainRestore(file);
    try {
      assert.deepEqual(await ids(srv.host, "postgres", srv.port), [1, 2, 3, 4, 5, 100, 101, 102, 103]);
    } finally {
      await srv.stop();
      fs.rmSync(file, { force: true });
    }
  });
});

describe("downloads", () => {
  it("refuses expired, tampered and malformed URLs, and paths outside the store", async () => {
    const { BackupDownloadURL: url } = await c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: backup.Id });
    const u = new URL(url);
    const expires = Number(u.searchParams.get("expires"));
    assert.ok(Math.abs(expires - Date.now() / 1000 - 12 * 3600) < 60, "12 hours by default");
    // a correctly signed URL whose time is up
    assert.equal((await download(forgeUrl(d, u.pathname, Math.floor(Date.now() / 1000) - 1))).status, 403);
    assert.equal((await download(forgeUrl(d, u.pathname, Math.floor(Date.now() / 1000) + 60))).status, 200);
    const sig = u.searchParams.get("sig");
    const bad = url.replace(`sig=${sig}`, `sig=${sig[0] === "a" ? "b" : "a"}${sig.slice(1)}`);
    assert.equal((await download(bad)).status, 403, "wrong signature");
    assert.equal((await download(url.replace(`expires=${expires}`, `expires=${expires + 1}`))).status, 403, "a longer life");
    assert.equal((await download(url.replace(backup.Id, "00000000-0000-4000-8000-000000000000"))).status, 403, "another backup");
    for (const p of ["/backup-download/../../../etc/passwd", `/backup-download/${A.id}/base/${backup.Id}/..%2f..%2fpgfleet.db`,
      `/backup-download/${A.id}/base/${backup.Id}/../../../../pgfleet.db`, `/backup-download/${A.id}/base/${backup.Id}`]) {
      const r = await download(`http://${d.endpoint}${p}${u.search}`);
      assert.ok(r.status === 404 || r.status === 403, `${p}: ${r.status}`);
      assert.ok(!r.body.includes("SQLite"), "nothing outside the store is served");
    }
    assert.equal((await download(`http://${d.endpoint}/backup-download/x`)).status, 404);
    assert.equal((await download(url, { method: "HEAD" })).status, 200);
  });

  it("enforces the download restriction on the client's address", async () => {
    const { BackupDownloadURL: url } = await c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: backup.Id });
    const r0 = await c.DescribeBackupDownloadRestriction({});
    assert.equal(r0.RestrictionType, "NONE");
    await c.ModifyBackupDownloadRestriction({ RestrictionType: "CUSTOMIZE", IpRestrictionEffect: "ALLOW", IpSet: ["127.0.0.1"] });
    const r1 = await c.DescribeBackupDownloadRestriction({});
    assert.deepEqual([r1.RestrictionType, r1.IpRestrictionEffect, r1.IpSet], ["CUSTOMIZE", "ALLOW", ["127.0.0.1"]]);
    assert.equal((await download(url, { localAddress: "127.0.0.1" })).status, 200);
    assert.equal((await download(url, { localAddress: "127.0.0.2" })).status, 403, "another address is refused");
    await c.ModifyBackupDownloadRestriction({ RestrictionType: "CUSTOMIZE", IpRestrictionEffect: "DENY", IpSet: ["127.0.0.0/31"] });
    assert.equal((await download(url, { localAddress: "127.0.0.1" })).status, 403);
    assert.equal((await download(url, { localAddress: "127.0.0.2" })).status, 200);
    // the private network is the instances' address range
    await c.ModifyBackupDownloadRestriction({ RestrictionType: "INTRANET" });
    assert.equal((await download(url, { localAddress: "127.0.0.1" })).status, 403);
    assert.equal((await download(url, { localAddress: d.fleetConfig.vip_last })).status, 200);
    // a VPC is the network of the tenant's instances in it
    await c.ModifyBackupDownloadRestriction({ RestrictionType: "CUSTOMIZE", VpcRestrictionEffect: "ALLOW", VpcIdSet: ["vpc-e2e"] }).then(
      () => assert.fail("an unknown VPC is refused"),
      (e) => assert.equal(e.code, "InvalidParameter.VpcNotFoundError"),
    );
    await c.ModifyBackupDownloadRestriction({ RestrictionType: "NONE" });
    // a restriction given with the URL applies on top
    const { BackupDownloadURL: own } = await c.DescribeBackupDownloadURL({
      DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: backup.Id,
      BackupDownloadRestriction: { RestrictionType: "CUSTOMIZE", IpRestrictionEffect: "ALLOW", IpSet: ["127.0.0.3"] },
    });
    assert.equal((await download(own, { localAddress: "127.0.0.1" })).status, 403);
    assert.equal((await download(own, { localAddress: "127.0.0.3" })).status, 200);
    await expectCode(c.ModifyBackupDownloadRestriction({ RestrictionType: "CUSTOMIZE" }), INVALID, "CUSTOMIZE without rules");
    await expectCode(c.ModifyBackupDownloadRestriction({ RestrictionType: "CUSTOMIZE", IpRestrictionEffect: "ALLOW", IpSet: ["not-an-ip"] }), INVALID);
    await expectCode(c.ModifyBackupDownloadRestriction({ RestrictionType: "SOMETIMES" }), "InvalidParameterValue");
  });

  it("serves log backups, and checks the URL's parameters", async () => {
    const seg = (await logBackups(c, A.id)).find((l) => /^[0-9A-F]{24}\.gz$/.test(l.Name));
    const { BackupDownloadURL: url } = await c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "LogBackup", BackupId: seg.Id, URLExpireTime: 36 });
    const got = await download(url);
    assert.equal(got.status, 200);
    assert.equal(zlib.gunzipSync(got.body).length, SEG);
    await expectCode(c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "LogBackup", BackupId: seg.Id, URLExpireTime: 37 }),
      "InvalidParameterValue.ParameterValueExceedError");
    await expectCode(c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "LogBackup", BackupId: backup.Id }), INVALID, "a base backup id as a log backup");
    await expectCode(c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: "../../x" }), INVALID);
    await expectCode(c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "Snapshot", BackupId: seg.Id }), "InvalidParameterValue");
  });
});

describe("backup plans", () => {
  it("describes the default plan and validates changes", async () => {
    const [plan] = (await c.DescribeBackupPlans({ DBInstanceId: A.id })).Plans;
    assert.equal(plan.MinBackupStartTime, "00:00:00");
    assert.equal(plan.MaxBackupStartTime, "01:00:00");
    assert.equal(plan.BaseBackupRetentionPeriod, 7);
    assert.equal(plan.LogBackupRetentionPeriod, 7);
    assert.equal(JSON.parse(plan.BackupPeriod).length, 7);
    assert.equal(plan.BackupMethod, "physical");
    await c.ModifyBackupPlan({ DBInstanceId: A.id, MinBackupStartTime: "02:00:00", MaxBackupStartTime: "03:30:00", BaseBackupRetentionPeriod: 30, LogBackupRetentionPeriod: 14, BackupPeriod: ["friday", "Monday"] });
    const [p2] = (await c.DescribeBackupPlans({ DBInstanceId: A.id })).Plans;
    assert.deepEqual([p2.MinBackupStartTime, p2.MaxBackupStartTime, p2.BaseBackupRetentionPeriod, p2.LogBackupRetentionPeriod, JSON.parse(p2.BackupPeriod)],
      ["02:00:00", "03:30:00", 30, 14, ["monday", "friday"]]);
    // the new base retention applies to existing backups
    const b = (await baseBackups(c, A.id)).find((x) => x.Id === backup.Id);
    assert.equal(parse(b.ExpireTime) - parse(b.FinishTime), 30 * DAY);
    const bad = [
      [{ BaseBackupRetentionPeriod: 6 }, "InvalidParameterValue"],
      [{ BaseBackupRetentionPeriod: 1831 }, "InvalidParameterValue"],
      [{ LogBackupRetentionPeriod: 3 }, "InvalidParameterValue"],
      [{ LogBackupRetentionPeriod: 5000 }, "InvalidParameterValue"],
      [{ MinBackupStartTime: "25:00:00" }, INVALID],
      [{ MinBackupStartTime: "1am" }, INVALID],
      [{ MinBackupStartTime: "04:00:00", MaxBackupStartTime: "03:00:00" }, INVALID],
      [{ BackupPeriod: ["monday"] }, INVALID],
      [{ BackupPeriod: ["monday", "funday"] }, INVALID],
      [{ PlanId: "nope" }, INVALID],
      [{ BackupMethod: "logical" }, INVALID],
    ];
    for (const [p, code] of bad) await expectCode(c.ModifyBackupPlan({ DBInstanceId: A.id, ...p }), code, JSON.stringify(p));
    await expectOneOf(c.ModifyBackupPlan({ DBInstanceId: "postgres-nope0000", BaseBackupRetentionPeriod: 7 }), NOT_FOUND_CODES);
  });

  it("the scheduler takes the plan's automatic backup when its window opens", async () => {
    const start = Math.floor(Date.now() / 1000) + 3;
    if (hms(start) > "22:58:00") return; // the window would cross midnight: nothing to check tonight
    await c.ModifyBackupPlan({ DBInstanceId: A.id, MinBackupStartTime: hms(start), MaxBackupStartTime: hms(start + 3600),
      BackupPeriod: ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"] });
    const auto = await waitFor(async () => (await baseBackups(c, A.id)).find((b) => b.BackupMode === "automatic"), { timeoutMs: 30000, what: "an automatic backup" });
    assert.ok(parse(auto.StartTime) >= start, `started in the window (${auto.StartTime} >= ${fmt(start)})`);
    assert.match(auto.Name, /^automatic-/);
    await waitBase(c, auto.Id);
    await sleep(2500); // no second one in the same window
    assert.equal((await baseBackups(c, A.id)).filter((b) => b.BackupMode === "automatic").length, 1);
  });
});

describe("overview and summaries", () => {
  it("count and measure what is in the store", async () => {
    const bases = (await baseBackups(c, A.id)).filter((b) => b.State === "finished");
    const logs = (await logBackups(c, A.id)).filter((l) => l.State === "finished");
    const ov = await c.DescribeBackupOverview({});
    const manual = bases.filter((b) => b.BackupMode === "manual");
    const auto = bases.filter((b) => b.BackupMode === "automatic");
    const sum = (xs) => xs.reduce((a, x) => a + x.Size, 0);
    assert.equal(ov.ManualBaseBackupCount, manual.length);
    assert.equal(ov.ManualBaseBackupSize, sum(manual));
    assert.equal(ov.AutoBaseBackupCount, auto.length);
    assert.equal(ov.AutoBaseBackupSize, sum(auto));
    assert.ok(Math.abs(ov.LogBackupCount - logs.length) <= 2, "log backups (WAL keeps being archived)");
    assert.equal(ov.TotalFreeSize, 10 * 2 ** 30, "free space: the storage bought (10 GB)");
    assert.equal(ov.UsedFreeSize, ov.LogBackupSize + ov.ManualBaseBackupSize + ov.AutoBaseBackupSize);
    assert.equal(ov.UsedBillingSize, 0);
    const s = await c.DescribeBackupSummaries({ Filters: [{ Name: "db-instance-id", Values: [A.id] }] });
    assert.equal(s.TotalCount, 1);
    const row = s.BackupSummarySet[0];
    assert.equal(row.DBInstanceId, A.id);
    assert.equal(row.ManualBaseBackupCount, manual.length);
    assert.equal(row.TotalBackupCount, row.LogBackupCount + row.ManualBaseBackupCount + row.AutoBaseBackupCount);
    assert.equal(row.TotalBackupSize, row.LogBackupSize + row.ManualBaseBackupSize + row.AutoBaseBackupSize);
    await expectCode(c.DescribeBackupSummaries({ Filters: [{ Name: "color", Values: ["red"] }] }), INVALID);
  });
});

describe("deletion, expiry and bad input", () => {
  it("deletes log backups a base backup does not need, and base backups", async () => {
    const logs = await logBackups(c, A.id);
    const first = logs.find((l) => l.Name === "000000010000000000000001.gz");
    assert.ok(first, "the first segment (before any backup) is archived");
    await c.DeleteLogBackup({ DBInstanceId: A.id, LogBackupId: first.Id });
    assert.ok(!(await logBackups(c, A.id)).some((l) => l.Id === first.Id));
    assert.ok(!fs.existsSync(path.join(walDir(A.id), first.Name)));
    await expectCode(c.DeleteLogBackup({ DBInstanceId: A.id, LogBackupId: first.Id }), INVALID, "deleted twice");
    // a segment inside the base backup's own range is kept
    const manifest = JSON.parse(fs.readFileSync(path.join(d.dataDir, "backups", A.id, "base", backup.Id, "backup_manifest"), "utf8"));
    const startSeg = parseInt(manifest["WAL-Ranges"][0]["Start-LSN"].split("/")[1], 16) >>> 24;
    const hi = parseInt(manifest["WAL-Ranges"][0]["Start-LSN"].split("/")[0], 16);
    const name = `00000001${hi.toString(16).toUpperCase().padStart(8, "0")}${startSeg.toString(16).toUpperCase().padStart(8, "0")}.gz`;
    const needed = (await logBackups(c, A.id)).find((l) => l.Name === name);
    assert.ok(needed, `segment ${name} is archived`);
    await expectCode(c.DeleteLogBackup({ DBInstanceId: A.id, LogBackupId: needed.Id }), "FailedOperation.FailedOperationError");
    // a base backup: record and files
    const extra = await takeBackup(c, A.id);
    await c.DeleteBaseBackup({ DBInstanceId: A.id, BaseBackupId: extra.Id });
    assert.ok(!(await baseBackups(c, A.id)).some((b) => b.Id === extra.Id));
    assert.ok(!fs.existsSync(path.join(d.dataDir, "backups", A.id, "base", extra.Id)));
    await expectCode(c.DeleteBaseBackup({ DBInstanceId: A.id, BaseBackupId: extra.Id }), INVALID);
  });

  it("ModifyBaseBackupExpireTime: the backup expires at the new time", async () => {
    const b = await takeBackup(c, A.id);
    const later = fmt(Math.floor(Date.now() / 1000) + 40 * DAY);
    await c.ModifyBaseBackupExpireTime({ DBInstanceId: A.id, BaseBackupId: b.Id, NewExpireTime: later });
    assert.equal((await baseBackups(c, A.id)).find((x) => x.Id === b.Id).ExpireTime, later);
    await expectCode(c.ModifyBaseBackupExpireTime({ DBInstanceId: A.id, BaseBackupId: b.Id, NewExpireTime: fmt(Math.floor(Date.now() / 1000) - 60) }), INVALID, "in the past");
    await expectCode(c.ModifyBaseBackupExpireTime({ DBInstanceId: A.id, BaseBackupId: b.Id, NewExpireTime: "2030-02-30 00:00:00" }), INVALID, "no such day");
    await expectCode(c.ModifyBaseBackupExpireTime({ DBInstanceId: A.id, BaseBackupId: b.Id, NewExpireTime: "tomorrow" }), INVALID);
    const soon = Math.floor(Date.now() / 1000) + 2;
    await c.ModifyBaseBackupExpireTime({ DBInstanceId: A.id, BaseBackupId: b.Id, NewExpireTime: fmt(soon) });
    await waitFor(async () => !(await baseBackups(c, A.id)).some((x) => x.Id === b.Id), { timeoutMs: 15000, what: "the backup expired" });
    assert.ok(!fs.existsSync(path.join(d.dataDir, "backups", A.id, "base", b.Id)));
  });

  it("answers the documented errors for unknown ids, bad input and another tenant's backups", async () => {
    await expectCode(c.CreateBaseBackup({ DBInstanceId: A.id, BackupMethod: "snapshot" }), INVALID);
    await expectOneOf(c.CreateBaseBackup({ DBInstanceId: "postgres-nope0000" }), NOT_FOUND_CODES);
    await expectCode(c.DeleteBaseBackup({ DBInstanceId: A.id, BaseBackupId: "00000000-0000-4000-8000-000000000000" }), INVALID);
    await expectCode(c.DeleteBaseBackup({ DBInstanceId: A.id, BaseBackupId: "../../../pgfleet.db" }), INVALID);
    await expectCode(c.DeleteLogBackup({ DBInstanceId: A.id, LogBackupId: "nope" }), INVALID);
    await expectCode(c.DescribeBaseBackups({ MinFinishTime: "yesterday" }), INVALID);
    await expectCode(c.DescribeLogBackups({ MaxFinishTime: "2024-13-01 00:00:00" }), INVALID);
    await expectCode(c.DescribeBaseBackups({ Filters: [{ Name: "nope", Values: ["x"] }] }), INVALID);
    await expectCode(c.DescribeBaseBackups({ Limit: 101 }), "InvalidParameterValue");
    // another tenant sees none of it and cannot touch it
    const other = d.client(await d.tenantCreate("other"));
    assert.equal((await other.DescribeBaseBackups({})).TotalCount, 0);
    assert.equal((await other.DescribeLogBackups({})).TotalCount, 0);
    assert.equal((await other.DescribeBackupSummaries({})).TotalCount, 0);
    const ov = await other.DescribeBackupOverview({});
    assert.equal(ov.ManualBaseBackupCount + ov.LogBackupCount, 0);
    await expectOneOf(other.DeleteBaseBackup({ DBInstanceId: A.id, BaseBackupId: backup.Id }), NOT_FOUND_CODES);
    await expectOneOf(other.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: backup.Id }), NOT_FOUND_CODES);
    await expectOneOf(other.CreateBaseBackup({ DBInstanceId: A.id }), NOT_FOUND_CODES);
    await expectOneOf(other.DescribeBackupPlans({ DBInstanceId: A.id }), NOT_FOUND_CODES);
  });
});

describe("daemon stopped or killed during a backup", () => {
  it("SIGKILL mid-backup: after restart the backup finishes (or fails), never reported good when it is not", async () => {
    await sql({ host: A.ip }, "CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, 200000) g");
    await killDaemon(d);
    d = await restartFleet(d, { config: { backup_max_rate_kbps: 64 } });
    c = d.client();
    const { BaseBackupId: id } = await c.CreateBaseBackup({ DBInstanceId: A.id });
    await waitFor(() => basebackupProcs(id).length > 0, { timeoutMs: 10000, what: "pg_basebackup running" });
    const mid = (await baseBackups(c, A.id)).find((b) => b.Id === id);
    assert.equal(mid.State, "running");
    await killDaemon(d);
    d = await restartFleet(d, { config: { backup_max_rate_kbps: 0 } });
    c = d.client();
    const done = await waitBase(c, id, { states: ["finished", "failed"] });
    assert.equal(done.State, "finished", "the resumed task took the backup again");
    assert.equal(basebackupProcs(id).length, 0, "the orphan pg_basebackup was stopped");
    assert.match(d.stderr, /stopping pg_basebackup \d+ left from a previous run/);
    const { BackupDownloadURL: url } = await c.DescribeBackupDownloadURL({ DBInstanceId: A.id, BackupType: "BaseBackup", BackupId: id });
    const file = `${d.dataDir}-killed.tar.zst`;
    fs.writeFileSync(file, (await download(url)).body);
    const srv = await plainRestore(file);
    try {
      const rows = await ids(srv.host, "postgres", srv.port);
      assert.deepEqual(rows.slice(0, 5), [1, 2, 3, 4, 5], "the finished backup is complete");
    } finally {
      await srv.stop();
      fs.rmSync(file, { force: true });
    }
  });

  it("SIGTERM mid-backup: the daemon stops at once and the backup is recorded as failed", async () => {
    await killDaemon(d);
    d = await restartFleet(d, { config: { backup_max_rate_kbps: 64 } });
    c = d.client();
    const { BaseBackupId: id } = await c.CreateBaseBackup({ DBInstanceId: A.id });
    await waitFor(() => basebackupProcs(id).length > 0, { timeoutMs: 10000, what: "pg_basebackup running" });
    const t0 = Date.now();
    const r = await d.stop({ check: false });
    assert.deepEqual([r.code, r.signal], [0, null]);
    assert.match(r.stderr, /pg_basebackup interrupted by daemon shutdown/);
    assert.ok(Date.now() - t0 < 10000, "shutdown does not wait for the backup");
    d = await restartFleet(d, { config: { backup_max_rate_kbps: 0 } });
    c = d.client();
    const done = await waitBase(c, id, { states: ["failed"] });
    assert.equal(done.State, "failed");
    assert.equal(basebackupProcs(id).length, 0);
    assert.ok(!fs.existsSync(path.join(d.dataDir, "backups", A.id, "base", id)), "no files of a failed backup");
  });
});
