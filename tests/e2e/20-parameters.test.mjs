// 20-parameters: instance parameters through the official SDK, checked on
// the real server with `pg`. The catalog (DescribeDefaultParameters) is the
// server's own pg_settings joined with the project's policy; what
// DescribeDBInstanceParameters says is what pg_settings says; a reloadable
// change is seen by SHOW as soon as its event says success, the instance
// staying `running`; a change that needs a restart goes through
// `restarting` and is seen afterwards; invalid values, units, reserved
// parameters and injection attempts are refused with the documented codes
// and leave postgresql.auto.conf byte for byte as it was; a batch with one
// bad entry applies nothing; a set the server would not start with is
// refused by the preflight; DescribeParamsEvent groups every change per
// parameter. A value that still keeps PostgreSQL from starting (injected:
// a wrapper `postgres` that fails once) is rolled back and its event says
// so. Templates are created, modified, listed with filters, order and
// pages, read, deleted, and are invisible to another tenant.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { UUID_RE, expectCode } from "./lib/daemon.mjs";
import {
  NOT_FOUND_CODES,
  createInstance,
  disposeFleet,
  expectOneOf,
  fmtMs,
  nodeDir,
  postmasterPid,
  sleep,
  sql,
  startFleet,
  waitFor,
  waitStatus,
} from "./lib/instances.mjs";

const BAD_VALUE = "InvalidParameterValue.InvalidParameterValueError";
const OUT_OF_RANGE = "InvalidParameterValue.ParameterOutOfRangeError";
const DENIED = "OperationDenied.CamDeniedError";
const NO_TEMPLATE = "FailedOperation.FailedOperationError";
const TASK_TIMEOUT_MS = 60000;

let d;
let c;
let inst; // {id, ip, ...}

before(async () => {
  d = await startFleet();
  c = d.client();
  inst = await createInstance(c, { Name: "e2e-params" });
});

after(async () => {
  try {
    await d.stop(); // exit 0, no sanitizer report
  } finally {
    await disposeFleet(d);
  }
});

// ---- helpers ----

const admin = () => ({ host: inst.ip });
const show = async (name) => Object.values((await sql(admin(), `SHOW ${name}`))[0])[0];
const setting = async (name) =>
  (await sql(admin(), "SELECT setting FROM pg_settings WHERE name = $1", [name]))[0]?.setting;
const autoConfPath = () => path.join(nodeDir(d, inst.id), "data", "postgresql.auto.conf");
const autoConf = () => fs.readFileSync(autoConfPath());

function modify(list, id = inst.id, client = c) {
  return client.ModifyDBInstanceParameters({
    DBInstanceId: id,
    ParamList: Object.entries(list).map(([Name, ExpectedValue]) => ({ Name, ExpectedValue })),
  });
}

/** modify(), retried while another task of the instance (e.g. the tail of
 *  its creation) still runs: what a client does with InstanceStatusLimitError. */
async function modifyWhenFree(list, id = inst.id, client = c) {
  const deadline = Date.now() + TASK_TIMEOUT_MS;
  for (;;) {
    try {
      return await modify(list, id, client);
    } catch (e) {
      if (e.code !== "OperationDenied.InstanceStatusLimitError" || Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

async function events(id = inst.id) {
  return (await c.DescribeParamsEvent({ DBInstanceId: id })).EventItems;
}

/** The newest event of each name once none of them is in progress. */
async function settled(names, { id = inst.id, seen = [], client = c } = {}) {
  return waitFor(
    async () => {
      const r = await client.DescribeDBInstanceAttribute({ DBInstanceId: id });
      const s = r.DBInstance.DBInstanceStatus;
      if (seen[seen.length - 1] !== s) seen.push(s);
      const items = (await client.DescribeParamsEvent({ DBInstanceId: id })).EventItems;
      const newest = names.map((n) => items.find((i) => i.ParamName === n)?.EventDetail[0]);
      if (newest.some((ev) => !ev || ev.State === "modifying" || ev.State === "waiting for restart")) return null;
      if (s !== "running") return null;
      return Object.fromEntries(names.map((n, i) => [n, newest[i]]));
    },
    { timeoutMs: TASK_TIMEOUT_MS, what: `parameter change of ${names.join(", ")} to settle` },
  );
}

/** Modify, wait for the events, return {task, events, seen}. */
async function apply(list, opts = {}) {
  const r = await modifyWhenFree(list, opts.id, opts.client);
  assert.ok(Number.isInteger(r.TaskId) && r.TaskId > 0, `ModifyDBInstanceParameters returns a TaskId: ${JSON.stringify(r)}`);
  const seen = [];
  const evs = await settled(Object.keys(list), { ...opts, seen });
  return { task: r.TaskId, events: evs, seen };
}

async function params(name) {
  const r = await c.DescribeDBInstanceParameters({ DBInstanceId: inst.id, ...(name ? { ParamName: name } : {}) });
  return r;
}

/** Assert that call() fails with `code` and that nothing changed on the server. */
async function refused(call, code, what) {
  const before = autoConf();
  const nEvents = JSON.stringify(await events());
  await expectCode(call(), code, what);
  assert.deepEqual(autoConf(), before, `${what}: postgresql.auto.conf must not change`);
  assert.equal(JSON.stringify(await events()), nEvents, `${what}: no event is recorded`);
}

// ---- the catalog ----

describe("DescribeDefaultParameters", () => {
  it("is PostgreSQL 15's own catalog: types, units, contexts, real enum values", async () => {
    const r = await c.DescribeDefaultParameters({ DBMajorVersion: "15", DBEngine: "postgresql" });
    assert.equal(r.TotalCount, r.ParamInfoSet.length);
    assert.ok(r.TotalCount > 150, `a managed service exposes many parameters, got ${r.TotalCount}`);
    const by = Object.fromEntries(r.ParamInfoSet.map((p) => [p.Name, p]));
    const sb = by.shared_buffers;
    assert.equal(sb.ParamValueType, "integer");
    assert.equal(sb.Unit, "8kB");
    assert.equal(sb.NeedReboot, true);
    assert.equal(sb.SpecRelated, true);
    assert.ok(sb.SpecRelationSet.some((s) => s.Memory === "2GB" && s.Value === "65536"), JSON.stringify(sb.SpecRelationSet));
    assert.equal(sb.ClassificationEN, "Resource Usage");
    assert.equal(sb.ClassificationCN, "资源使用");
    assert.ok(sb.ParamDescriptionEN.length > 0 && sb.ParamDescriptionCH.length > 0);
    assert.deepEqual(by.log_statement.EnumValue, ["none", "ddl", "mod", "all"]);
    assert.equal(by.log_statement.ParamValueType, "enum");
    assert.deepEqual(by.wal_level.EnumValue, ["replica", "logical"]);
    assert.equal(by.log_min_duration_statement.Unit, "ms");
    assert.equal(by.log_min_duration_statement.NeedReboot, false);
    assert.equal(by.log_min_duration_statement.Min, -1);
    assert.equal(by.autovacuum.ParamValueType, "bool");
    assert.equal(by.random_page_cost.ParamValueType, "real");
    assert.equal(by.shared_preload_libraries.ParamValueType, "mutil_enum");
    assert.ok(by.shared_preload_libraries.EnumValue.includes("pg_stat_statements"));
    assert.ok(by.TimeZone.EnumValue.includes("Asia/Shanghai"));
    assert.ok(by["pg_stat_statements.max"], "extension settings are listed");
    for (const reserved of ["port", "listen_addresses", "data_directory", "archive_command", "hba_file", "ssl_cert_file",
      "default_transaction_read_only", "log_line_prefix", "block_size"]) {
      assert.equal(by[reserved], undefined, `${reserved} is not offered`);
    }
    // real values: the same lists pg_settings has
    const rows = await sql(admin(), "SELECT name, enumvals FROM pg_settings WHERE vartype = 'enum'");
    for (const row of rows) {
      const p = by[row.name];
      if (!p || row.name === "wal_level") continue;
      assert.deepEqual(p.EnumValue, row.enumvals, `EnumValue of ${row.name}`);
    }
  });

  it("refuses a version that is not installed and another engine", async () => {
    await expectCode(c.DescribeDefaultParameters({ DBMajorVersion: "9", DBEngine: "postgresql" }), "InvalidParameter.ParameterCheckError");
    await expectCode(c.DescribeDefaultParameters({ DBMajorVersion: "15", DBEngine: "mssql_compatible" }), "UnsupportedOperation");
  });
});

// ---- an instance's parameters ----

describe("DescribeDBInstanceParameters", () => {
  it("says what pg_settings says, with the instance's spec limits", async () => {
    const r = await params();
    assert.equal(r.TotalCount, r.Detail.length);
    // values this test session set itself (connection options) are not the server's
    const rows = await sql(admin(), "SELECT name, setting FROM pg_settings WHERE source NOT IN ('client', 'session')");
    const server = Object.fromEntries(rows.map((x) => [x.name, x.setting]));
    for (const p of r.Detail) {
      if (server[p.Name] === undefined) continue; // superuser-only settings are hidden from the admin
      assert.equal(p.CurrentValue, server[p.Name], `CurrentValue of ${p.Name}`);
    }
    const sb = r.Detail.find((p) => p.Name === "shared_buffers");
    assert.equal(sb.CurrentValue, "65536"); // 2 GB spec: a quarter
    assert.equal(sb.DefaultValue, "65536");
    assert.equal(sb.Max, 196608); // 3/4 of 2 GB in 8 kB pages
    assert.equal(sb.SpecRelationSet.length, 1);
    assert.equal(sb.SpecRelationSet[0].Memory, "2GB");
    const mc = r.Detail.find((p) => p.Name === "max_connections");
    assert.equal(mc.CurrentValue, await show("max_connections"));
    // the service's own connection sets statement_timeout for itself; a new session gets the server's
    const st = r.Detail.find((p) => p.Name === "statement_timeout");
    assert.equal(st.CurrentValue, "0");
  });

  it("answers one parameter by ParamName; refuses unknown and reserved names", async () => {
    const r = await params("log_min_duration_statement");
    assert.equal(r.TotalCount, 1);
    assert.equal(r.Detail[0].Name, "log_min_duration_statement");
    assert.equal(r.Detail[0].CurrentValue, await setting("log_min_duration_statement"));
    await expectCode(params("no_such_parameter"), BAD_VALUE);
    await expectCode(params("port"), BAD_VALUE);
    await expectOneOf(c.DescribeDBInstanceParameters({ DBInstanceId: "postgres-nosuch00" }), NOT_FOUND_CODES);
  });
});

describe("ModifyDBInstanceParameters", () => {
  it("a reloadable parameter is seen by SHOW as soon as the change is done, without a restart", async (t) => {
    const pid = postmasterPid(d, inst.id);
    const old = await setting("random_page_cost");
    const t0 = performance.now();
    const { events: ev, seen } = await apply({ random_page_cost: "1.50", log_min_duration_statement: "250" });
    t.diagnostic(`reload change effective after ${fmtMs(performance.now() - t0)}`);
    assert.equal(await show("random_page_cost"), "1.5");
    assert.equal(await show("log_min_duration_statement"), "250ms");
    assert.equal(await setting("log_min_duration_statement"), "250");
    assert.deepEqual(seen.filter((s) => s !== "running"), [], `the instance stays running: ${seen}`);
    assert.equal(postmasterPid(d, inst.id), pid, "no restart");
    assert.equal(ev.random_page_cost.State, "success");
    assert.equal(ev.random_page_cost.OldValue, old);
    assert.equal(ev.random_page_cost.NewValue, "1.5");
    assert.match(ev.random_page_cost.ModifyTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(ev.random_page_cost.EffectiveTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(ev.random_page_cost.Operator, /^\d+$/);
    const p = (await params("random_page_cost")).Detail[0];
    assert.equal(p.CurrentValue, "1.5");
    assert.equal(p.DefaultValue, "4");
    assert.match(p.LastModifyTime, /^\d{4}-/);
    assert.match(autoConf().toString(), /random_page_cost = '1.5'/);
  });

  it("a parameter that needs a restart goes through `restarting` and is seen afterwards", async (t) => {
    const pid = postmasterPid(d, inst.id);
    const old = await show("max_connections");
    const t0 = performance.now();
    const r = await modifyWhenFree({ max_connections: "150" });
    const seen = [];
    await waitStatus(c, inst.id, "restarting", { seen, timeoutMs: TASK_TIMEOUT_MS, allowed: ["running", "restarting"] });
    const ev = await settled(["max_connections"], { seen });
    t.diagnostic(`restart change effective after ${fmtMs(performance.now() - t0)} (task ${r.TaskId}, statuses ${seen})`);
    assert.ok(seen.includes("restarting"));
    assert.equal(seen[seen.length - 1], "running");
    assert.equal(await show("max_connections"), "150");
    assert.notEqual(postmasterPid(d, inst.id), pid, "the server was restarted");
    assert.equal(ev.max_connections.State, "success");
    assert.equal(ev.max_connections.OldValue, old);
    assert.equal(ev.max_connections.NewValue, "150");
    const p = (await params("max_connections")).Detail[0];
    assert.equal(p.CurrentValue, "150");
    assert.equal(p.NeedReboot, true);
  });

  it("several at once, of both kinds, in one task", async () => {
    const { events: ev } = await apply({ work_mem: "8192", log_statement: "DDL", TimeZone: "asia/shanghai",
      shared_preload_libraries: "pg_stat_statements,auto_explain" });
    assert.equal(await setting("work_mem"), "8192");
    assert.equal(await show("log_statement"), "ddl");
    assert.equal(await show("TimeZone"), "Asia/Shanghai");
    // (SHOW shared_preload_libraries needs pg_read_all_settings; the loaded library's settings show it)
    assert.equal((await params("shared_preload_libraries")).Detail[0].CurrentValue, "pg_stat_statements, auto_explain");
    assert.ok(await setting("auto_explain.log_min_duration"), "auto_explain is loaded");
    for (const n of ["work_mem", "log_statement", "TimeZone", "shared_preload_libraries"]) assert.equal(ev[n].State, "success", n);
    assert.equal(ev.log_statement.NewValue, "ddl");
    // an extension's setting, now that its library is loaded
    await apply({ "auto_explain.log_min_duration": "1000" });
    assert.equal(await setting("auto_explain.log_min_duration"), "1000");
  });

  it("refuses values of the wrong form, units, and values out of range; nothing changes", async () => {
    await refused(() => modify({ shared_buffers: "8GB" }), BAD_VALUE, "a unit");
    await refused(() => modify({ shared_buffers: "8192kB" }), BAD_VALUE, "a unit suffix");
    await refused(() => modify({ log_min_duration_statement: "1s" }), BAD_VALUE, "a time unit");
    await refused(() => modify({ work_mem: "4.5" }), BAD_VALUE, "a fraction for an integer");
    await refused(() => modify({ autovacuum: "maybe" }), BAD_VALUE, "not a boolean");
    await refused(() => modify({ log_statement: "everything" }), BAD_VALUE, "not an enum value");
    await refused(() => modify({ wal_level: "minimal" }), BAD_VALUE, "an enum value the policy withholds");
    await refused(() => modify({ shared_preload_libraries: "pg_stat_statements,evil" }), BAD_VALUE, "an unknown library");
    await refused(() => modify({ work_mem: "10" }), OUT_OF_RANGE, "below the minimum");
    await refused(() => modify({ shared_buffers: "196609" }), OUT_OF_RANGE, "above 3/4 of the spec's memory");
    await refused(() => modify({ max_connections: "5000" }), OUT_OF_RANGE, "above the spec's connections");
    await refused(() => modify({ random_page_cost: "1e999" }), BAD_VALUE, "an infinite real");
    await refused(() => modify({}), BAD_VALUE, "an empty list");
  });

  it("refuses reserved and unknown parameters", async () => {
    for (const name of ["port", "listen_addresses", "data_directory", "archive_command", "hba_file", "ssl_cert_file",
      "ssl", "default_transaction_read_only", "log_line_prefix", "log_directory", "restore_command",
      "superuser_reserved_connections", "session_preload_libraries", "block_size", "search_path"]) {
      await refused(() => modify({ [name]: "1" }), DENIED, name);
    }
    await refused(() => modify({ no_such_parameter: "1" }), BAD_VALUE, "unknown");
    await refused(() => modify({ "pg_prewarm.autoprewarm": "on" }), BAD_VALUE, "an extension whose library is not loaded");
  });

  it("refuses configuration-line injection in values and names; the file is untouched", async () => {
    const attempts = {
      log_statement: ["all\nlisten_addresses = '*'", "all' #", "all # comment", "'all'", "all\r"],
      TimeZone: ["UTC'\ninclude '/etc/passwd", "UTC' include_dir '/tmp"],
      work_mem: ["4096\n", "4096 # x", "4096'", "include '/etc/passwd'"],
      DateStyle: ["ISO, MDY\nport = 1"],
      shared_preload_libraries: ["pg_stat_statements'; '/tmp/evil"],
    };
    for (const [name, values] of Object.entries(attempts)) {
      for (const v of values) await refused(() => modify({ [name]: v }), BAD_VALUE, `${name} = ${JSON.stringify(v)}`);
    }
    for (const name of ["work_mem = 1\nport", "work_mem\n", "include", "work_mem'"]) {
      await refused(() => modify({ [name]: "1" }), BAD_VALUE, `name ${JSON.stringify(name)}`);
    }
  });

  it("applies nothing when one entry of several is bad", async () => {
    const before = { rpc: await show("random_page_cost"), wm: await setting("work_mem") };
    await refused(() => modify({ random_page_cost: "2", work_mem: "16384", log_statement: "bogus" }), BAD_VALUE, "one bad value");
    await refused(() => modify({ random_page_cost: "2", port: "5433" }), DENIED, "one reserved");
    await refused(() => modify({ random_page_cost: "2", work_mem: "1" }), OUT_OF_RANGE, "one out of range");
    await refused(() => c.ModifyDBInstanceParameters({ DBInstanceId: inst.id, ParamList: [
      { Name: "work_mem", ExpectedValue: "8192" }, { Name: "WORK_MEM", ExpectedValue: "4096" }] }), BAD_VALUE, "a name twice");
    assert.equal(await show("random_page_cost"), before.rpc);
    assert.equal(await setting("work_mem"), before.wm);
  });

  it("refuses a set PostgreSQL would not start with (preflight with the real binary)", async () => {
    const e = await expectCode(modify({ shared_buffers: "196608", max_locks_per_transaction: "8192", max_connections: "1000" }),
      OUT_OF_RANGE, "too much shared memory");
    assert.match(e.message, /shared memory/);
    assert.equal(await show("max_connections"), "150");
  });

  it("refuses another tenant, unknown instances and a busy instance", async () => {
    const other = await d.tenantCreate("params-other");
    const oc = d.client(other);
    await expectOneOf(modify({ work_mem: "4096" }, inst.id, oc), NOT_FOUND_CODES, "another tenant's instance");
    await expectOneOf(oc.DescribeParamsEvent({ DBInstanceId: inst.id }), NOT_FOUND_CODES, "another tenant's events");
    await expectOneOf(modify({ work_mem: "4096" }, "postgres-nosuch00"), NOT_FOUND_CODES, "unknown instance");
    await modifyWhenFree({ max_wal_senders: "12" }); // a restart
    await expectOneOf(modify({ work_mem: "4096" }), ["OperationDenied.InstanceStatusLimitError"], "while the restart runs");
    await settled(["max_wal_senders"]);
    assert.equal(await setting("max_wal_senders"), "12");
  });
});

describe("DescribeParamsEvent", () => {
  it("groups every change per parameter, newest first", async () => {
    const items = await events();
    const r = await c.DescribeParamsEvent({ DBInstanceId: inst.id });
    assert.equal(r.TotalCount, items.length);
    const names = items.map((i) => i.ParamName);
    assert.deepEqual(names, [...names].sort(), "ordered by name");
    for (const n of ["random_page_cost", "log_min_duration_statement", "max_connections", "work_mem", "log_statement",
      "TimeZone", "shared_preload_libraries", "max_wal_senders"]) {
      const it = items.find((i) => i.ParamName === n);
      assert.ok(it, `${n} has events`);
      assert.equal(it.EventCount, it.EventDetail.length);
      for (const ev of it.EventDetail) {
        assert.equal(ev.ParamName, n);
        assert.ok(["success", "failed"].includes(ev.State), `${n}: ${ev.State}`);
        for (const k of ["OldValue", "NewValue", "ModifyTime", "EffectiveTime", "Operator", "EventLog"]) {
          assert.equal(typeof ev[k], "string", `${n}.${k}`);
        }
      }
      const times = it.EventDetail.map((ev) => ev.ModifyTime);
      assert.deepEqual(times, [...times].sort().reverse(), "newest first");
    }
  });
});

// ---- rollback when PostgreSQL does not start ----

describe("a change PostgreSQL does not start with", () => {
  let fd; // a second daemon whose `postgres` is a wrapper that can fail once
  let fc;
  let finst;
  let root;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "pgfleet-fakebin-"));
    fs.chmodSync(root, 0o755);
    const bin = path.join(root, "15", "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync("/usr/lib/postgresql/15/lib", path.join(root, "15", "lib"));
    for (const f of fs.readdirSync("/usr/lib/postgresql/15/bin")) {
      if (f !== "postgres") fs.symlinkSync(path.join("/usr/lib/postgresql/15/bin", f), path.join(bin, f));
    }
    const flags = path.join(root, "flags");
    fs.mkdirSync(flags);
    fs.chmodSync(flags, 0o777);
    fs.writeFileSync(path.join(bin, "postgres"),
      `#!/bin/sh\n# fails one postmaster start when ${flags}/fail exists (fault injection)\n` +
      `if [ "$1" = "-D" ] && [ -e ${flags}/fail ]; then rm -f ${flags}/fail; echo "injected start failure" >&2; exit 1; fi\n` +
      `exec /usr/lib/postgresql/15/bin/postgres "$@"\n`, { mode: 0o755 });
    fd = await startFleet({ config: { pg_bin_root: root } });
    fc = fd.client();
    finst = await createInstance(fc, { Name: "e2e-params-rollback" });
    fs.writeFileSync(path.join(flags, "fail"), "");
  });

  after(async () => {
    try {
      await fd.stop(); // exit 0, no sanitizer report
    } finally {
      await disposeFleet(fd);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("is rolled back, the instance runs again with the old values, and the event says so", async () => {
    const ip = finst.ip;
    const old = (await sql({ host: ip }, "SHOW max_connections"))[0].max_connections;
    const auto = fs.readFileSync(path.join(nodeDir(fd, finst.id), "data", "postgresql.auto.conf"));
    await modifyWhenFree({ max_connections: "111", work_mem: "5000" }, finst.id, fc);
    const seen = [];
    const ev = await settled(["max_connections", "work_mem"], { id: finst.id, client: fc, seen });
    assert.ok(seen.includes("restarting"), `went through restarting: ${seen}`);
    assert.equal(ev.max_connections.State, "failed");
    assert.match(ev.max_connections.EventLog, /did not start/);
    assert.match(ev.max_connections.EventLog, /restored/);
    assert.equal(ev.work_mem.State, "failed", "the whole change is undone");
    assert.equal((await sql({ host: ip }, "SHOW max_connections"))[0].max_connections, old);
    assert.notEqual((await sql({ host: ip }, "SELECT setting FROM pg_settings WHERE name = 'work_mem'"))[0].setting, "5000");
    assert.deepEqual(fs.readFileSync(path.join(nodeDir(fd, finst.id), "data", "postgresql.auto.conf")), auto);
    const inst2 = (await fc.DescribeDBInstanceAttribute({ DBInstanceId: finst.id })).DBInstance;
    assert.equal(inst2.DBInstanceStatus, "running");
  });
});

// ---- templates ----

describe("parameter templates", () => {
  const ids = {};

  it("creates templates of an installed version with checked names", async () => {
    const r = await c.CreateParameterTemplate({ TemplateName: "tpl-alpha", DBMajorVersion: "15", DBEngine: "postgresql",
      TemplateDescription: "first(one)" });
    assert.match(r.TemplateId, UUID_RE);
    ids.alpha = r.TemplateId;
    ids.beta = (await c.CreateParameterTemplate({ TemplateName: "tpl-beta", DBMajorVersion: "15", DBEngine: "postgresql" })).TemplateId;
    ids.gamma = (await c.CreateParameterTemplate({ TemplateName: "other_gamma", DBMajorVersion: "15", DBEngine: "postgresql" })).TemplateId;
    await expectCode(c.CreateParameterTemplate({ TemplateName: "tpl-alpha", DBMajorVersion: "15", DBEngine: "postgresql" }), BAD_VALUE);
    await expectCode(c.CreateParameterTemplate({ TemplateName: "bad name!", DBMajorVersion: "15", DBEngine: "postgresql" }), BAD_VALUE);
    await expectCode(c.CreateParameterTemplate({ TemplateName: "x".repeat(61), DBMajorVersion: "15", DBEngine: "postgresql" }), BAD_VALUE);
    await expectCode(c.CreateParameterTemplate({ TemplateName: "v9", DBMajorVersion: "9", DBEngine: "postgresql" }),
      "InvalidParameter.ParameterCheckError");
  });

  it("modifies entries (checked against the version's catalog), deletes entries, renames", async () => {
    await c.ModifyParameterTemplate({ TemplateId: ids.alpha, ModifyParamEntrySet: [
      { Name: "work_mem", ExpectedValue: "8192" }, { Name: "LOG_STATEMENT", ExpectedValue: "DDL" },
      { Name: "max_connections", ExpectedValue: "300" }, { Name: "random_page_cost", ExpectedValue: "1.10" }] });
    await expectCode(c.ModifyParameterTemplate({ TemplateId: ids.alpha, ModifyParamEntrySet: [
      { Name: "work_mem", ExpectedValue: "1" }] }), OUT_OF_RANGE);
    await expectCode(c.ModifyParameterTemplate({ TemplateId: ids.alpha, ModifyParamEntrySet: [
      { Name: "shared_buffers", ExpectedValue: "1GB" }] }), BAD_VALUE);
    await expectCode(c.ModifyParameterTemplate({ TemplateId: ids.alpha, ModifyParamEntrySet: [
      { Name: "port", ExpectedValue: "1" }] }), DENIED);
    await expectCode(c.ModifyParameterTemplate({ TemplateId: ids.alpha, ModifyParamEntrySet: [
      { Name: "work_mem", ExpectedValue: "4096" }], DeleteParamSet: ["work_mem"] }), BAD_VALUE);
    await expectCode(c.ModifyParameterTemplate({ TemplateId: ids.alpha, TemplateName: "tpl-beta" }), BAD_VALUE);
    await expectCode(c.ModifyParameterTemplate({ TemplateId: "00000000-0000-4000-8000-000000000000", TemplateName: "x" }), NO_TEMPLATE);
    await c.ModifyParameterTemplate({ TemplateId: ids.alpha, DeleteParamSet: ["max_connections"], TemplateName: "tpl-alpha2",
      TemplateDescription: "renamed" });
    const a = await c.DescribeParameterTemplateAttributes({ TemplateId: ids.alpha });
    assert.equal(a.TemplateId, ids.alpha);
    assert.equal(a.TemplateName, "tpl-alpha2");
    assert.equal(a.TemplateDescription, "renamed");
    assert.equal(a.DBMajorVersion, "15");
    assert.equal(a.DBEngine, "postgresql");
    assert.equal(a.TotalCount, 3);
    const by = Object.fromEntries(a.ParamInfoSet.map((p) => [p.Name, p]));
    assert.deepEqual(Object.keys(by).sort(), ["log_statement", "random_page_cost", "work_mem"]);
    assert.equal(by.work_mem.CurrentValue, "8192");
    assert.equal(by.log_statement.CurrentValue, "ddl");
    assert.equal(by.random_page_cost.CurrentValue, "1.1");
    assert.equal(by.work_mem.Unit, "kB");
  });

  it("lists with filters, order and pages", async () => {
    const all = await c.DescribeParameterTemplates({});
    assert.equal(all.TotalCount, 3);
    assert.deepEqual(all.ParameterTemplateSet.map((t) => t.TemplateId), [ids.gamma, ids.beta, ids.alpha], "newest first by default");
    const byName = await c.DescribeParameterTemplates({ Filters: [{ Name: "TemplateName", Values: ["tpl-"] }],
      OrderBy: "TemplateName", OrderByType: "asc" });
    assert.deepEqual(byName.ParameterTemplateSet.map((t) => t.TemplateName), ["tpl-alpha2", "tpl-beta"]);
    const one = await c.DescribeParameterTemplates({ Filters: [{ Name: "TemplateId", Values: [ids.beta] },
      { Name: "DBMajorVersion", Values: ["15"] }, { Name: "DBEngine", Values: ["postgresql"] }] });
    assert.equal(one.TotalCount, 1);
    assert.deepEqual(one.ParameterTemplateSet[0], { TemplateId: ids.beta, TemplateName: "tpl-beta", DBMajorVersion: "15",
      DBEngine: "postgresql", TemplateDescription: "" });
    const none = await c.DescribeParameterTemplates({ Filters: [{ Name: "DBMajorVersion", Values: ["14"] }] });
    assert.equal(none.TotalCount, 0);
    const page = await c.DescribeParameterTemplates({ OrderBy: "TemplateName", OrderByType: "desc", Limit: 1, Offset: 1 });
    assert.equal(page.TotalCount, 3);
    assert.deepEqual(page.ParameterTemplateSet.map((t) => t.TemplateName), ["tpl-alpha2"]);
    await expectCode(c.DescribeParameterTemplates({ Filters: [{ Name: "Nope", Values: ["x"] }] }), BAD_VALUE);
  });

  it("belong to their tenant", async () => {
    const other = await d.tenantCreate("params-tpl-other");
    const oc = d.client(other);
    assert.equal((await oc.DescribeParameterTemplates({})).TotalCount, 0);
    await expectCode(oc.DescribeParameterTemplateAttributes({ TemplateId: ids.alpha }), NO_TEMPLATE);
    await expectCode(oc.ModifyParameterTemplate({ TemplateId: ids.alpha, TemplateName: "stolen" }), NO_TEMPLATE);
    await expectCode(oc.DeleteParameterTemplate({ TemplateId: ids.alpha }), NO_TEMPLATE);
    // the same name is free in another tenant
    const mine = await oc.CreateParameterTemplate({ TemplateName: "tpl-beta", DBMajorVersion: "15", DBEngine: "postgresql" });
    assert.match(mine.TemplateId, UUID_RE);
    assert.equal((await c.DescribeParameterTemplates({})).TotalCount, 3);
  });

  it("deletes", async () => {
    await c.DeleteParameterTemplate({ TemplateId: ids.gamma });
    await expectCode(c.DescribeParameterTemplateAttributes({ TemplateId: ids.gamma }), NO_TEMPLATE);
    await expectCode(c.DeleteParameterTemplate({ TemplateId: ids.gamma }), NO_TEMPLATE);
    assert.equal((await c.DescribeParameterTemplates({})).TotalCount, 2);
  });
});
