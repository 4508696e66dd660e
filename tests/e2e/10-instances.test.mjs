// 10-instances: real PostgreSQL 15 servers through the official SDK and
// `pg`. CreateInstances goes initing -> running and the admin account can
// log in on the instance's own 127.x address; DescribeDBInstances filters,
// orders and pages; names and projects change; restart, isolate (connections
// refused, operations refused), disisolate and destroy (node directory,
// address and processes gone) do what they say and keep the data; the older
// CreateDBInstances + InitDBInstances flow works; a second tenant neither
// sees nor touches the first one's instances; bad input is refused with the
// documented codes and leaves nothing behind. The daemon stops cleanly and
// its SIGTERM stops every server.
//
// Timings (CreateInstances -> running -> first query) are reported as test
// diagnostics.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import {
  ADMIN,
  ADMIN_PW,
  NOT_FOUND_CODES,
  STATUS_LIMIT_CODES,
  createInstance,
  createParams,
  disposeFleet,
  expectOneOf,
  expectRefused,
  fmtMs,
  listIds,
  netInfo,
  nodeDir,
  postgresProcessesOf,
  sleep,
  sql,
  startFleet,
  waitFor,
  waitStatus,
  withPg,
} from "./lib/instances.mjs";

const APP_DB = "appdb";
const MAIN_NAME = "e2e-main";
const PAIR_NAME = "e2e-pair";
const PROJECT = 4242;
const PROJECT2 = 4343;

let d;
let c;
let main; // {id, ip, inst, seen, ms}: created in before(), reused throughout
let pair = []; // two PREPAID instances of project PROJECT (DescribeDBInstances)

before(async () => {
  d = await startFleet();
  c = d.client();
  main = await createInstance(c, { Name: MAIN_NAME, TagList: [{ TagKey: "team", TagValue: "core" }] });
});

after(async () => {
  // the shutdown tests check that SIGTERM stops the servers; this only makes
  // sure nothing is left whatever happened
  await disposeFleet(d);
});

const mainPg = (over = {}) => ({ host: main.ip, ...over });

describe("CreateInstances", () => {
  it("goes initing -> running and the admin runs a first query (timings in diagnostics)", (t) => {
    t.diagnostic(
      `first instance (may wait for the UTF8 template the daemon builds at start-up): accepted ${fmtMs(main.ms.accepted)}, ` +
        `running ${fmtMs(main.ms.running)}, first query ${fmtMs(main.ms.firstQuery)}; statuses ${main.seen}`,
    );
    assert.match(main.id, /^postgres-[a-z0-9]{8}$/);
    assert.ok(main.seen.includes("initing"), `status initing is visible before running (seen ${main.seen})`);
    assert.equal(main.seen[main.seen.length - 1], "running");
  });

  it("a second creation (template ready) is timed too", async (t) => {
    const second = await createInstance(c, { Name: "e2e-timing" });
    t.diagnostic(
      `steady state: accepted ${fmtMs(second.ms.accepted)}, running ${fmtMs(second.ms.running)}, ` +
        `first query ${fmtMs(second.ms.firstQuery)}; statuses ${second.seen}`,
    );
    // An instance that says "running" takes operations at once. It is not
    // needed any more: isolate + destroy (retried if refused, so that the
    // list tests below stay exact) and report a refusal afterwards.
    const refusal = await c.IsolateDBInstances({ DBInstanceIdSet: [second.id] }).then(
      () => null,
      (e) => e,
    );
    if (refusal) {
      await waitFor(() => c.IsolateDBInstances({ DBInstanceIdSet: [second.id] }).then(() => true, () => false), {
        what: `IsolateDBInstances of ${second.id} to be accepted`,
      });
    }
    await waitStatus(c, second.id, "isolated");
    await c.DestroyDBInstance({ DBInstanceId: second.id });
    await waitFor(async () => !(await listIds(c)).includes(second.id), { what: `${second.id} to be destroyed` });
    assert.ok(!refusal, `IsolateDBInstances right after "running" was refused: ${refusal?.code} ${refusal?.message}`);
  });

  it("describes the instance as created", () => {
    const i = main.inst;
    assert.equal(i.DBInstanceId, main.id);
    assert.equal(i.DBInstanceName, MAIN_NAME);
    assert.equal(i.Zone, "ap-guangzhou-3");
    assert.equal(i.DBInstanceClass, "cdb.pg.z1.2g");
    assert.equal(i.DBInstanceStorage, 10);
    assert.equal(i.DBInstanceMemory, 2);
    assert.equal(i.DBMajorVersion, "15");
    assert.match(i.DBVersion, /^15\.\d+$/);
    assert.equal(i.DBCharset, "UTF8");
    assert.equal(i.PayType, "postpaid");
    assert.equal(i.ProjectId, 0);
    assert.deepEqual(i.TagList, [{ TagKey: "team", TagValue: "core" }]);
    const ni = netInfo(i);
    assert.match(ni.Ip, /^127\.\d+\.\d+\.\d+$/, "the private address is a loopback address");
    assert.equal(ni.Port, 5432);
    assert.equal(ni.Status, "opened");
  });

  it("runs PostgreSQL 15 with the requested charset on the instance's own address", async () => {
    const [row] = await sql(
      mainPg(),
      "SELECT current_user AS u, current_setting('server_version_num')::int AS v, " +
        "current_setting('server_encoding') AS enc, inet_server_addr()::text AS addr, inet_server_port() AS port",
    );
    assert.equal(row.u, ADMIN);
    assert.ok(row.v >= 150000 && row.v < 160000, `server_version_num ${row.v}`);
    assert.equal(row.enc, "UTF8");
    assert.equal(row.addr.replace(/\/32$/, ""), main.ip);
    assert.equal(row.port, 5432);
  });

  it("the admin can create a table in database postgres and write a row", async () => {
    // PostgreSQL 15 removed CREATE on schema public for non-owners; a cloud
    // admin account must still be able to use the default database.
    await withPg(mainPg(), async (cl) => {
      await cl.query("CREATE TABLE e2e_t (id int PRIMARY KEY, v text)");
      await cl.query("INSERT INTO e2e_t VALUES (1, 'in postgres')");
      const { rows } = await cl.query("SELECT v FROM e2e_t");
      assert.deepEqual(rows, [{ v: "in postgres" }]);
    });
  });

  it("the admin can create a database, a table in it and a row (used below)", async () => {
    await sql(mainPg(), `CREATE DATABASE ${APP_DB}`);
    await withPg(mainPg({ database: APP_DB }), async (cl) => {
      await cl.query("CREATE TABLE t (id int PRIMARY KEY, v text)");
      await cl.query("INSERT INTO t VALUES (1, 'kept')");
    });
    assert.deepEqual(await sql(mainPg({ database: APP_DB }), "SELECT v FROM t"), [{ v: "kept" }]);
  });
});

async function rowKept(what) {
  assert.deepEqual(await sql(mainPg({ database: APP_DB }), "SELECT id, v FROM t"), [{ id: 1, v: "kept" }], `row after ${what}`);
}

const ids = (r) => r.DBInstanceSet.map((i) => i.DBInstanceId);
const filter = (Name, ...Values) => ({ Filters: [{ Name, Values }] });

describe("DescribeDBInstances", () => {
  before(async () => {
    const r = await c.CreateInstances(
      createParams({
        InstanceCount: 2,
        Name: PAIR_NAME,
        ProjectId: PROJECT,
        InstanceChargeType: "PREPAID",
        TagList: [{ TagKey: "tier", TagValue: "b" }],
      }),
    );
    assert.equal(r.DBInstanceIdSet.length, 2, `InstanceCount 2 gives two ids: ${JSON.stringify(r)}`);
    pair = [...r.DBInstanceIdSet].sort();
    for (const id of pair) await waitStatus(c, id, "running");
  });

  it("lists every instance with TotalCount", async () => {
    const r = await c.DescribeDBInstances({});
    assert.equal(r.TotalCount, 3);
    assert.deepEqual(ids(r).sort(), [main.id, ...pair].sort());
  });

  it("filters by db-instance-id (values OR'ed)", async () => {
    const r1 = await c.DescribeDBInstances(filter("db-instance-id", main.id));
    assert.deepEqual([r1.TotalCount, ids(r1)], [1, [main.id]]);
    const r2 = await c.DescribeDBInstances(filter("db-instance-id", main.id, pair[0], "postgres-nothere"));
    assert.deepEqual([r2.TotalCount, ids(r2).sort()], [2, [main.id, pair[0]].sort()]);
  });

  it("filters by db-instance-name as a substring", async () => {
    const r = await c.DescribeDBInstances(filter("db-instance-name", "pai"));
    assert.deepEqual([r.TotalCount, ids(r).sort()], [2, pair]);
    const r2 = await c.DescribeDBInstances(filter("db-instance-name", "e2e-"));
    assert.equal(r2.TotalCount, 3);
    const r3 = await c.DescribeDBInstances(filter("db-instance-name", "nomatch"));
    assert.deepEqual([r3.TotalCount, r3.DBInstanceSet], [0, []]);
  });

  it("filters by db-project-id", async () => {
    const r = await c.DescribeDBInstances(filter("db-project-id", String(PROJECT)));
    assert.deepEqual([r.TotalCount, ids(r).sort()], [2, pair]);
    const r0 = await c.DescribeDBInstances(filter("db-project-id", "0"));
    assert.deepEqual(ids(r0), [main.id]);
  });

  it("filters by db-pay-mode", async () => {
    const pre = await c.DescribeDBInstances(filter("db-pay-mode", "prepaid"));
    assert.deepEqual(ids(pre).sort(), pair);
    const post = await c.DescribeDBInstances(filter("db-pay-mode", "postpaid"));
    assert.deepEqual(ids(post), [main.id]);
    for (const i of pre.DBInstanceSet) {
      assert.equal(i.PayType, "prepaid");
      assert.notEqual(i.ExpireTime, "", "a prepaid instance has an ExpireTime");
    }
  });

  it("filters by db-tag-key (TagList given at creation)", async () => {
    assert.deepEqual(ids(await c.DescribeDBInstances(filter("db-tag-key", "team"))), [main.id]);
    assert.deepEqual(ids(await c.DescribeDBInstances(filter("db-tag-key", "tier"))).sort(), pair);
    assert.equal((await c.DescribeDBInstances(filter("db-tag-key", "core"))).TotalCount, 0, "a tag value is not a key");
  });

  it("ANDs several filters", async () => {
    const r = await c.DescribeDBInstances({
      Filters: [
        { Name: "db-project-id", Values: [String(PROJECT)] },
        { Name: "db-instance-id", Values: [main.id, pair[1]] },
      ],
    });
    assert.deepEqual([r.TotalCount, ids(r)], [1, [pair[1]]]);
  });

  it("refuses an unknown filter name with InvalidParameterValue", async () => {
    await expectCode(c.DescribeDBInstances(filter("db-no-such-filter", "x")), "InvalidParameterValue");
  });

  it("orders by DBInstanceId, Name, CreateTime and EndTime, asc and desc", async () => {
    const all = [main.id, ...pair];
    const byId = [...all].sort();
    const get = async (OrderBy, OrderByType) => ids(await c.DescribeDBInstances({ OrderBy, OrderByType }));
    assert.deepEqual(await get("DBInstanceId", "asc"), byId);
    assert.deepEqual(await get("DBInstanceId", "desc"), [...byId].reverse());
    // "e2e-main" < "e2e-pair"; equal names in some fixed order
    const nameAsc = await get("Name", "asc");
    assert.equal(nameAsc[0], main.id);
    assert.deepEqual(await get("Name", "desc"), [...nameAsc].reverse());
    // main was created first; postpaid has no end time, so it sorts first by EndTime
    const createAsc = await get("CreateTime", "asc");
    assert.equal(createAsc[0], main.id);
    assert.deepEqual(await get("CreateTime", "desc"), [...createAsc].reverse());
    assert.deepEqual(await get(undefined, undefined), createAsc, "the default order is CreateTime asc");
    assert.equal((await get("EndTime", "asc"))[0], main.id);
    assert.equal((await get("EndTime", "desc"))[2], main.id);
  });

  it("pages with Limit and Offset; TotalCount counts every match", async () => {
    const byId = [main.id, ...pair].sort();
    const seen = [];
    for (let off = 0; off < 3; off++) {
      const r = await c.DescribeDBInstances({ OrderBy: "DBInstanceId", Limit: 1, Offset: off });
      assert.equal(r.TotalCount, 3);
      assert.equal(r.DBInstanceSet.length, 1);
      seen.push(r.DBInstanceSet[0].DBInstanceId);
    }
    assert.deepEqual(seen, byId);
    const r2 = await c.DescribeDBInstances({ OrderBy: "DBInstanceId", Limit: 2, Offset: 1 });
    assert.deepEqual([r2.TotalCount, ids(r2)], [3, byId.slice(1)]);
    const r3 = await c.DescribeDBInstances({ Limit: 10, Offset: 3 });
    assert.deepEqual([r3.TotalCount, r3.DBInstanceSet], [3, []]);
  });
});

describe("ModifyDBInstanceName and ModifyDBInstancesProject", () => {
  it("renames an instance", async () => {
    await c.ModifyDBInstanceName({ DBInstanceId: main.id, InstanceName: "e2e-renamed" });
    const i = (await c.DescribeDBInstanceAttribute({ DBInstanceId: main.id })).DBInstance;
    assert.equal(i.DBInstanceName, "e2e-renamed");
    assert.deepEqual(ids(await c.DescribeDBInstances(filter("db-instance-name", "renamed"))), [main.id]);
    await c.ModifyDBInstanceName({ DBInstanceId: main.id, InstanceName: MAIN_NAME });
  });

  it("moves instances to another project and answers with Count", async () => {
    const r = await c.ModifyDBInstancesProject({ DBInstanceIdSet: pair, ProjectId: String(PROJECT2) });
    assert.equal(r.Count, 2);
    assert.deepEqual(ids(await c.DescribeDBInstances(filter("db-project-id", String(PROJECT2)))).sort(), pair);
    assert.equal((await c.DescribeDBInstances(filter("db-project-id", String(PROJECT)))).TotalCount, 0);
    const i = (await c.DescribeDBInstanceAttribute({ DBInstanceId: pair[0] })).DBInstance;
    assert.equal(i.ProjectId, PROJECT2);
  });

  it("changes nothing when one id of the set does not exist", async () => {
    await expectOneOf(
      c.ModifyDBInstancesProject({ DBInstanceIdSet: [pair[0], "postgres-nothere0"], ProjectId: "7" }),
      NOT_FOUND_CODES,
      "ModifyDBInstancesProject with an unknown id",
    );
    const i = (await c.DescribeDBInstanceAttribute({ DBInstanceId: pair[0] })).DBInstance;
    assert.equal(i.ProjectId, PROJECT2);
  });

  it("refuses a ProjectId that is not a number", async () => {
    await expectCode(c.ModifyDBInstancesProject({ DBInstanceIdSet: pair, ProjectId: "abc" }), "InvalidParameterValue");
  });
});

describe("RestartDBInstance, IsolateDBInstances, DisIsolateDBInstances, DestroyDBInstance", () => {
  it("restart: restarting -> running, a new postmaster, the row kept", async () => {
    const [before] = await sql(mainPg(), "SELECT pg_postmaster_start_time()::text AS t");
    const r = await c.RestartDBInstance({ DBInstanceId: main.id });
    assert.ok(Number.isInteger(r.FlowId), `RestartDBInstance returns a FlowId: ${JSON.stringify(r)}`);
    const seen = [];
    await waitStatus(c, main.id, "running", { seen, allowed: ["restarting", "running"] });
    assert.equal(seen[0], "restarting", `status right after the call (seen ${seen})`);
    const [afterRow] = await sql(mainPg(), "SELECT pg_postmaster_start_time()::text AS t");
    assert.notEqual(afterRow.t, before.t, "the server really restarted");
    await rowKept("a restart");
  });

  it("isolate: isolated, network closed, connections refused", async () => {
    await c.IsolateDBInstances({ DBInstanceIdSet: [main.id] });
    const inst = await waitStatus(c, main.id, "isolated", { allowed: ["isolating", "isolated"] });
    assert.equal(netInfo(inst).Status, "closed");
    assert.notEqual(inst.IsolatedTime, "", "IsolatedTime is set");
    await expectRefused(main.ip);
  });

  it("refuses operations on an isolated instance with a status error", async () => {
    const refused = {
      RestartDBInstance: () => c.RestartDBInstance({ DBInstanceId: main.id }),
      IsolateDBInstances: () => c.IsolateDBInstances({ DBInstanceIdSet: [main.id] }),
      DescribeAccounts: () => c.DescribeAccounts({ DBInstanceId: main.id }),
      DescribeDatabases: () => c.DescribeDatabases({ DBInstanceId: main.id }),
      ResetAccountPassword: () => c.ResetAccountPassword({ DBInstanceId: main.id, UserName: ADMIN, Password: "Other_pass2" }),
    };
    for (const [name, call] of Object.entries(refused)) await expectOneOf(call(), STATUS_LIMIT_CODES, `${name} on an isolated instance`);
    // RestartDBInstance is named in the brief with InstanceStatusLimitError exactly
    await expectCode(c.RestartDBInstance({ DBInstanceId: main.id }), "OperationDenied.InstanceStatusLimitError", "RestartDBInstance on isolated");
    assert.equal((await c.DescribeDBInstanceAttribute({ DBInstanceId: main.id })).DBInstance.DBInstanceStatus, "isolated");
  });

  it("disisolate: running again with the data", async () => {
    await c.DisIsolateDBInstances({ DBInstanceIdSet: [main.id] });
    const inst = await waitStatus(c, main.id, "running", { allowed: ["disisolating", "running"] });
    assert.equal(netInfo(inst).Status, "opened");
    assert.equal(inst.IsolatedTime, "");
    await rowKept("isolate + disisolate");
    await expectOneOf(c.DisIsolateDBInstances({ DBInstanceIdSet: [main.id] }), STATUS_LIMIT_CODES, "DisIsolate of a running instance");
  });

  it("refuses to destroy a running instance", async () => {
    await expectCode(c.DestroyDBInstance({ DBInstanceId: pair[0] }), "OperationDenied.InstanceStatusLimitError", "DestroyDBInstance on running");
    assert.equal((await c.DescribeDBInstanceAttribute({ DBInstanceId: pair[0] })).DBInstance.DBInstanceStatus, "running");
  });

  it("isolate + destroy: gone from the list, its node directory, processes and address freed", async () => {
    const id = pair[0];
    const ip = netInfo((await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance).Ip;
    const dir = nodeDir(d, id);
    assert.ok(fs.existsSync(dir), `${dir} exists while the instance does`);
    await c.IsolateDBInstances({ DBInstanceIdSet: [id] });
    await waitStatus(c, id, "isolated");
    await c.DestroyDBInstance({ DBInstanceId: id });
    await waitFor(async () => !(await listIds(c)).includes(id), { what: `${id} to leave DescribeDBInstances` });
    await expectOneOf(c.DescribeDBInstanceAttribute({ DBInstanceId: id }), NOT_FOUND_CODES, "DescribeDBInstanceAttribute of a destroyed instance");
    assert.equal((await c.DescribeDBInstances(filter("db-instance-id", id))).TotalCount, 0);
    assert.ok(!fs.existsSync(dir), `${dir} is removed`);
    assert.deepEqual(postgresProcessesOf(dir), [], "no process of the destroyed node");
    await expectRefused(ip);
    await expectOneOf(c.DestroyDBInstance({ DBInstanceId: id }), NOT_FOUND_CODES, "destroying it again");
    pair = pair.slice(1);
  });
});

describe("CreateDBInstances + InitDBInstances (the two-step flow)", () => {
  let legacy;

  const legacyParams = {
    SpecCode: "cdb.pg.z1.2g",
    Storage: 10,
    InstanceCount: 1,
    Period: 1,
    Zone: "ap-guangzhou-3",
    DBMajorVersion: "15",
    InstanceChargeType: "POSTPAID_BY_HOUR",
    Name: "e2e-legacy",
  };

  it("CreateDBInstances leaves an instance in status init, without a server", async () => {
    const r = await c.request("CreateDBInstances", legacyParams);
    assert.equal(r.DBInstanceIdSet.length, 1);
    legacy = r.DBInstanceIdSet[0];
    await sleep(300); // nothing may start on its own
    const i = (await c.DescribeDBInstanceAttribute({ DBInstanceId: legacy })).DBInstance;
    assert.equal(i.DBInstanceStatus, "init");
    assert.deepEqual(i.DBInstanceNetInfo, [], "no address before InitDBInstances");
    assert.ok(!fs.existsSync(nodeDir(d, legacy)), "no node directory before InitDBInstances");
    await expectOneOf(c.DescribeAccounts({ DBInstanceId: legacy }), STATUS_LIMIT_CODES, "DescribeAccounts before init");
  });

  it("InitDBInstances refuses a bad admin name and leaves the instance in init", async () => {
    await expectCode(
      c.request("InitDBInstances", { DBInstanceIdSet: [legacy], Charset: "LATIN1", AdminName: "pg_admin", AdminPassword: ADMIN_PW }),
      "InvalidParameterValue.InvalidAccountName",
    );
    assert.equal((await c.DescribeDBInstanceAttribute({ DBInstanceId: legacy })).DBInstance.DBInstanceStatus, "init");
  });

  it("InitDBInstances (LATIN1) -> initing -> running, the admin logs in", async (t) => {
    const t0 = performance.now();
    const r = await c.request("InitDBInstances", { DBInstanceIdSet: [legacy], Charset: "LATIN1", AdminName: "legacy_admin", AdminPassword: ADMIN_PW });
    assert.deepEqual(r.DBInstanceIdSet, [legacy]);
    const seen = [];
    const inst = await waitStatus(c, legacy, "running", { seen, allowed: ["initing", "running"] });
    t.diagnostic(`InitDBInstances -> running in ${fmtMs(performance.now() - t0)} (new LATIN1 template); statuses ${seen}`);
    assert.equal(inst.DBCharset, "LATIN1");
    const [row] = await sql({ host: netInfo(inst).Ip, user: "legacy_admin" }, "SELECT current_setting('server_encoding') AS enc");
    assert.equal(row.enc, "LATIN1");
  });

  it("InitDBInstances on a running instance is refused", async () => {
    await expectOneOf(
      c.request("InitDBInstances", { DBInstanceIdSet: [legacy], Charset: "UTF8", AdminName: "other_admin", AdminPassword: ADMIN_PW }),
      STATUS_LIMIT_CODES,
      "InitDBInstances twice",
    );
  });

  it("an instance still in init can be destroyed directly", async () => {
    const r = await c.request("CreateDBInstances", { ...legacyParams, Name: "e2e-legacy-2" });
    const id = r.DBInstanceIdSet[0];
    await c.DestroyDBInstance({ DBInstanceId: id });
    await waitFor(async () => !(await listIds(c)).includes(id), { what: `${id} to be destroyed` });
  });

  after(async () => {
    // leave the list as the later tests expect it: main + pair[0]
    if (!legacy) return;
    await c.IsolateDBInstances({ DBInstanceIdSet: [legacy] }).catch(() => {});
    await waitStatus(c, legacy, "isolated").catch(() => {});
    await c.DestroyDBInstance({ DBInstanceId: legacy }).catch(() => {});
    await waitFor(async () => !(await listIds(c)).includes(legacy), { what: `${legacy} to be destroyed` }).catch(() => {});
  });
});

describe("tenant isolation", () => {
  let c2;
  let theirs;

  before(async () => {
    const creds = await d.tenantCreate("e2e-other");
    c2 = d.client({ secretId: creds.secretId, secretKey: creds.secretKey });
  });

  it("a second tenant sees none of the first one's instances", async () => {
    const r = await c2.DescribeDBInstances({});
    assert.deepEqual([r.TotalCount, r.DBInstanceSet], [0, []]);
    const f = await c2.DescribeDBInstances(filter("db-instance-id", main.id));
    assert.equal(f.TotalCount, 0);
  });

  it("cannot read or act on the first tenant's instance", async () => {
    const calls = {
      DescribeDBInstanceAttribute: () => c2.DescribeDBInstanceAttribute({ DBInstanceId: main.id }),
      RestartDBInstance: () => c2.RestartDBInstance({ DBInstanceId: main.id }),
      ModifyDBInstanceName: () => c2.ModifyDBInstanceName({ DBInstanceId: main.id, InstanceName: "stolen" }),
      ModifyDBInstancesProject: () => c2.ModifyDBInstancesProject({ DBInstanceIdSet: [main.id], ProjectId: "9" }),
      IsolateDBInstances: () => c2.IsolateDBInstances({ DBInstanceIdSet: [main.id] }),
      DestroyDBInstance: () => c2.DestroyDBInstance({ DBInstanceId: main.id }),
      DescribeAccounts: () => c2.DescribeAccounts({ DBInstanceId: main.id }),
      DescribeDatabases: () => c2.DescribeDatabases({ DBInstanceId: main.id }),
      ResetAccountPassword: () => c2.ResetAccountPassword({ DBInstanceId: main.id, UserName: ADMIN, Password: "Stolen_pass9" }),
      ModifyAccountRemark: () => c2.ModifyAccountRemark({ DBInstanceId: main.id, UserName: ADMIN, Remark: "stolen" }),
    };
    for (const [name, call] of Object.entries(calls)) await expectOneOf(call(), NOT_FOUND_CODES, `${name} on another tenant's instance`);
    const i = (await c.DescribeDBInstanceAttribute({ DBInstanceId: main.id })).DBInstance;
    assert.equal(i.DBInstanceName, MAIN_NAME);
    assert.equal(i.DBInstanceStatus, "running");
    assert.equal(i.ProjectId, 0);
    await sql(mainPg(), "SELECT 1"); // the admin password is unchanged
  });

  it("the second tenant's own instance is invisible to the first", async () => {
    theirs = await createInstance(c2, { Name: "e2e-theirs" });
    assert.notEqual(theirs.ip, main.ip, "each instance has its own address");
    assert.deepEqual(ids(await c2.DescribeDBInstances({})), [theirs.id]);
    assert.ok(!(await listIds(c)).includes(theirs.id));
    await expectOneOf(c.DescribeDBInstanceAttribute({ DBInstanceId: theirs.id }), NOT_FOUND_CODES, "the first tenant reading it");
    await expectOneOf(c.RestartDBInstance({ DBInstanceId: theirs.id }), NOT_FOUND_CODES, "the first tenant restarting it");
    const mine = (await c.DescribeDBInstanceAttribute({ DBInstanceId: main.id })).DBInstance;
    assert.notEqual(theirs.inst.AppId, mine.AppId, "tenants have their own AppId");
  });
});

describe("bad input is refused and leaves nothing behind", () => {
  let idsBefore;
  let nodesBefore;
  let storage;

  before(async () => {
    idsBefore = (await listIds(c)).sort();
    nodesBefore = fs.readdirSync(path.join(d.dataDir, "nodes")).sort();
    const cls = await c.DescribeClasses({ Zone: "ap-guangzhou-3", DBEngine: "postgresql", DBMajorVersion: "15" });
    storage = cls.ClassInfoSet.find((x) => x.SpecCode === "cdb.pg.z1.2g");
    assert.ok(storage, "DescribeClasses lists cdb.pg.z1.2g");
  });

  const NAME = "InvalidParameterValue.InvalidAccountName";
  const FORMAT = "InvalidParameterValue.InvalidPasswordFormat";
  const LENGTH = "InvalidParameterValue.InvalidPasswordLengthError";
  const cases = () => [
    ["AdminName postgres", { AdminName: "postgres" }, NAME],
    ["AdminName pg_x", { AdminName: "pg_x" }, NAME],
    ["AdminName PG_X", { AdminName: "PG_X" }, NAME],
    ["AdminName 1abc", { AdminName: "1abc" }, NAME],
    ["AdminName of 17 characters", { AdminName: "a".repeat(17) }, NAME],
    ["AdminName with a quote", { AdminName: "ad'min" }, NAME],
    ["AdminName with a double quote", { AdminName: 'ad"min' }, NAME],
    ["AdminName built to break SQL", { AdminName: "x'; drop role x; --" }, NAME],
    ["AdminName with a backslash", { AdminName: "ad\\min" }, NAME],
    ["AdminName of the service's own superuser", { AdminName: "pgfleet_super" }, NAME],
    ["password of 7 characters", { AdminPassword: "Sh0rt_a" }, LENGTH],
    ["password of 33 characters", { AdminPassword: `Aa1_${"x".repeat(29)}` }, LENGTH],
    ["password without uppercase", { AdminPassword: "secret_pass1" }, FORMAT],
    ["password without lowercase", { AdminPassword: "SECRET_PASS1" }, FORMAT],
    ["password without digit", { AdminPassword: "Secret_pass" }, FORMAT],
    ["password without symbol", { AdminPassword: "Secretpass1" }, FORMAT],
    ["password with a backslash", { AdminPassword: "Secret\\pass1" }, FORMAT],
    ["password with a space", { AdminPassword: "Secret pass1_" }, FORMAT],
    ["password built to break SQL", { AdminPassword: "'; drop role x; --" }, FORMAT],
    ["unknown Zone", { Zone: "ap-nowhere-9" }, "InvalidParameterValue.IllegalZone"],
    ["unknown SpecCode", { SpecCode: "cdb.pg.z9.999g" }, "InvalidParameterValue.SpecNotRecognizedError"],
    ["Storage below the spec's minimum", { Storage: storage.MinStorage - 1 }, "InvalidParameterValue.ParameterOutOfRangeError"],
    ["Storage above the spec's maximum", { Storage: storage.MaxStorage + 1 }, "InvalidParameterValue.ParameterOutOfRangeError"],
    ["DBMajorVersion 9", { DBMajorVersion: "9" }, "InvalidParameter.ParameterCheckError"],
    ["NeedSupportTDE 1", { NeedSupportTDE: 1 }, "UnsupportedOperation"],
    [
      "a Standby in DBNodeSet",
      { DBNodeSet: [{ Role: "Primary", Zone: "ap-guangzhou-3" }, { Role: "Standby", Zone: "ap-guangzhou-3" }] },
      "UnsupportedOperation",
    ],
  ];

  it("CreateInstances refuses each bad input with its code", async () => {
    const failures = [];
    for (const [what, over, code] of cases()) {
      try {
        const r = await c.CreateInstances(createParams(over));
        failures.push(`${what}: accepted (${JSON.stringify(r.DBInstanceIdSet)}), expected ${code}`);
      } catch (e) {
        if (e.code !== code) failures.push(`${what}: got ${e.code} (${e.message}), expected ${code}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it("CreateDBInstances refuses a bad zone, spec and version", async () => {
    const base = { SpecCode: "cdb.pg.z1.2g", Storage: 10, InstanceCount: 1, Period: 1, Zone: "ap-guangzhou-3", DBMajorVersion: "15" };
    await expectCode(c.request("CreateDBInstances", { ...base, Zone: "ap-nowhere-9" }), "InvalidParameterValue.IllegalZone");
    await expectCode(c.request("CreateDBInstances", { ...base, SpecCode: "nope" }), "InvalidParameterValue.SpecNotRecognizedError");
    await expectCode(c.request("CreateDBInstances", { ...base, DBMajorVersion: "9" }), "InvalidParameter.ParameterCheckError");
  });

  it("no instance, node directory or task was left behind", async () => {
    await sleep(300); // a wrongly accepted creation would show up by now
    assert.deepEqual((await listIds(c)).sort(), idsBefore);
    assert.deepEqual(fs.readdirSync(path.join(d.dataDir, "nodes")).sort(), nodesBefore);
  });
});

describe("shutdown", () => {
  it("SIGTERM stops every server of the data dir", async () => {
    const dirs = [main.id, ...pair].map((id) => nodeDir(d, id));
    assert.ok(postgresProcessesOf(d.dataDir).length > 0, "servers run before the stop");
    await d.stop({ check: false });
    for (const dir of dirs) assert.deepEqual(postgresProcessesOf(dir), [], `no process of ${dir} after SIGTERM`);
    assert.deepEqual(postgresProcessesOf(d.dataDir), []);
  });

  it("the daemon exited 0 without a sanitizer report", async () => {
    await d.stop(); // already exited: only the harness's checks run
  });
});
