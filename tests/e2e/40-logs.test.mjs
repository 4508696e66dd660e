// 40-logs: slow queries and error logs read from the instance's real csvlog.
// The slow-query threshold is set through ModifyDBInstanceParameters
// (log_min_duration_statement = 100 ms); pg_sleep statements with different literals
// (and one over the extended protocol, `select pg_sleep($1)`) come back as
// one normalised query with the right count and durations, in
// DescribeSlowQueryAnalysis, DescribeSlowQueryList and the legacy
// DescribeDBSlowlogs. A syntax error, a division by zero and a failed login
// come back from DescribeDBErrlogs in their time range. Bad input (reversed,
// too long or malformed ranges, huge pages, regex and SQL metacharacters in
// search keys) gets the documented errors or literal matching; another
// tenant never sees the statements; passwords in statement text never come
// back. The aggregates read the log files on one thread per CPU (the daemon
// runs with log_scan_split_mb 0 here) and merge what each read.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { crashNote, expectCode, sdkError } from "./lib/daemon.mjs";
import {
  ADMIN,
  ADMIN_PW,
  NOT_FOUND_CODES,
  connectError,
  createInstance,
  disposeFleet,
  expectOneOf,
  sql,
  startFleet,
  waitFor,
  withPg,
} from "./lib/instances.mjs";

const BAD_VALUE = "InvalidParameterValue.InvalidParameterValueError";
const EXCEED = "InvalidParameterValue.ParameterValueExceedError";
const THRESHOLD_MS = 100;
const SECRET = "Sup3r_S3cret_Pw";

let d;
let c; // tenant A (root)
let a; // tenant A's instance
let cb; // tenant B
let b; // tenant B's instance
let t0; // before the statements

const pad = (n) => String(n).padStart(2, "0");
/** "YYYY-MM-DD HH:MM:SS" in local time (the service's time zone is the test's). */
function fmt(ms) {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}
const range = () => ({ StartTime: fmt(t0), EndTime: fmt(Date.now() + 60000) });
const adminOf = (inst, database = "postgres") => ({ host: inst.ip, user: ADMIN, password: ADMIN_PW, database });

/**
 * log_min_duration_statement = ms on `inst` through ModifyDBInstanceParameters;
 * waits until a new session sees it.
 */
async function setThreshold(client, inst, ms) {
  await client.ModifyDBInstanceParameters({
    DBInstanceId: inst.id,
    ParamList: [{ Name: "log_min_duration_statement", ExpectedValue: String(ms) }],
  });
  await waitFor(
    async () => (await sql(adminOf(inst), "SHOW log_min_duration_statement"))[0].log_min_duration_statement === `${ms}ms`,
    { timeoutMs: 30000, intervalMs: 100, what: `log_min_duration_statement = ${ms}ms on ${inst.id}` },
  );
}

before(async () => {
  // slow-query aggregates read the log files on one thread per CPU from 0 MB on (the
  // default is 32 MB): with two files (see "large logs" below) the merge is exercised
  d = await startFleet({ config: { log_scan_split_mb: 0 } });
  c = d.client();
  a = await createInstance(c, { Name: "e2e-logs-a" });
  const credsB = await d.tenantCreate("e2e-logs-b");
  cb = d.client({ secretId: credsB.secretId, secretKey: credsB.secretKey });
  b = await createInstance(cb, { Name: "e2e-logs-b" });
  await sql(adminOf(a), "CREATE DATABASE e2e_logs_db");
  await setThreshold(c, a, THRESHOLD_MS);
  await setThreshold(cb, b, THRESHOLD_MS);
  // ranges have one-second precision: start on a second of our own
  await new Promise((r) => setTimeout(r, 1100));
  t0 = Date.now();

  // slow statements: three literals, one bound parameter, another database,
  // a fast one, one that mentions a password, tenant A's marker
  await withPg(adminOf(a), async (cl) => {
    await cl.query("select pg_sleep(0.2)");
    await cl.query("SELECT pg_sleep(0.25)");
    await cl.query("select   pg_sleep(0.3) -- third");
    await cl.query("select pg_sleep($1)", [0.22]);
    await cl.query("select 1");
    await cl.query(`select pg_sleep(0.15), 'password=${SECRET}' as conn`);
    await cl.query("select pg_sleep(0.12), 'tenant-A-marker'");
  });
  await sql(adminOf(a, "e2e_logs_db"), "select pg_sleep(0.11), 'in another db'");
  await sql(adminOf(b), "select pg_sleep(0.13), 'tenant-B-marker'");

  // errors
  await withPg(adminOf(a), async (cl) => {
    await cl.query("selec 1").catch(() => {});
    await cl.query("select 1/0").catch(() => {});
    await cl.query('select * from "no.*such%table"').catch(() => {});
    await cl.query(`ALTER ROLE ${ADMIN} PASSWORD '${SECRET}' VALLID UNTIL 'infinity'`).catch(() => {});
    await cl.query(`ALTER ROLE ${ADMIN} WITH PASSWORD ${SECRET}x`).catch(() => {});
  });
  const e = await connectError({ host: a.ip, user: ADMIN, password: "Wrong_password_1" }, "a wrong password");
  assert.equal(e.code, "28P01");

  // the collector writes within moments; wait until everything is there
  await waitFor(
    async () => {
      const r = await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range() });
      const x = await c.DescribeDBErrlogs({ DBInstanceId: a.id, ...range(), Limit: 100 });
      return r.Detail.TotalCallNum >= 7 && x.Details.some((y) => /password authentication failed/.test(y.ErrMsg));
    },
    { timeoutMs: 15000, intervalMs: 200, what: "the slow statements and errors in the logs" },
  );
});

after(async () => {
  try {
    await d.stop(); // exit 0 and no sanitizer report
  } finally {
    await disposeFleet(d);
  }
});

const findItem = (items, re) => items.find((i) => re.test(i.NormalQuery));
/** The legacy DescribeDBSlowlogs over the range in postgres, by calls. */
const slowlogsByCalls = () =>
  c.request("DescribeDBSlowlogs", {
    DBInstanceId: a.id,
    ...range(),
    DatabaseName: "postgres",
    OrderBy: "sum_calls",
    OrderByType: "desc",
    Limit: 100,
    Offset: 0,
  });

describe("slow queries", () => {
  it("DescribeSlowQueryAnalysis aggregates the literals into one normalised query", async () => {
    const r = await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), DatabaseName: "postgres" });
    const items = r.Detail.AnalysisItems;
    const q = findItem(items, /^select pg_sleep\(\$1\)$/);
    assert.ok(q, `one item "select pg_sleep($1)": ${JSON.stringify(items.map((i) => i.NormalQuery))}`);
    assert.equal(q.CallNum, 4, "3 literals + 1 bound parameter");
    assert.equal(q.DatabaseName, "postgres");
    assert.equal(q.UserName, ADMIN);
    assert.ok(q.MinCostTime >= 200 && q.MinCostTime < 220, `MinCostTime ${q.MinCostTime}`);
    assert.ok(q.MaxCostTime >= 300 && q.MaxCostTime < 400, `MaxCostTime ${q.MaxCostTime}`);
    assert.ok(q.CostTime >= 970 && q.CostTime < 1200, `CostTime ${q.CostTime}`);
    assert.ok(Math.abs(q.AvgCostTime - q.CostTime / 4) < 1e-6);
    assert.ok(Math.abs(q.CallPercent - (100 * 4) / 6) < 1e-6, `CallPercent ${q.CallPercent} (a percentage)`);
    assert.ok(Math.abs(q.CostPercent - (100 * q.CostTime) / r.Detail.TotalTime) < 1e-6);
    assert.match(q.FirstTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.ok(q.FirstTime <= q.LastTime);
    assert.ok(q.FirstTime >= fmt(t0));
    assert.equal(q.ClientAddr, "127.0.0.1");
    // the fast statement is not there; the whole range in postgres has 6 calls
    assert.ok(!items.some((i) => i.NormalQuery === "select $1"));
    assert.equal(r.Detail.TotalCallNum, 6);
    assert.equal(r.TotalCount, items.length);
    assert.ok(Math.abs(r.Detail.TotalTime - items.reduce((s, i) => s + i.CostTime, 0)) < 1e-6);
  });

  it("orders and pages the analysis", async () => {
    const all = (await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), OrderBy: "CostTime", OrderByType: "asc" }))
      .Detail.AnalysisItems;
    const costs = all.map((i) => i.CostTime);
    assert.deepEqual(costs, [...costs].sort((x, y) => x - y));
    const page = await c.DescribeSlowQueryAnalysis({
      DBInstanceId: a.id,
      ...range(),
      OrderBy: "CostTime",
      OrderByType: "asc",
      Limit: 1,
      Offset: 1,
    });
    assert.equal(page.Detail.AnalysisItems.length, 1);
    assert.deepEqual(page.Detail.AnalysisItems[0], all[1]);
    assert.equal(page.TotalCount, all.length);
    const byCalls = (await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range() })).Detail.AnalysisItems;
    assert.equal(byCalls[0].NormalQuery, "select pg_sleep($1)", "default order: CallNum desc");
    const avg = (await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), OrderBy: "AvgCostTime" })).Detail
      .AnalysisItems;
    assert.ok(avg.every((x, i) => i === 0 || avg[i - 1].AvgCostTime >= x.AvgCostTime));
  });

  it("DescribeSlowQueryList lists each statement with its literals, durations and segments", async () => {
    const r = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), DatabaseName: "postgres", Limit: 100 });
    assert.equal(r.TotalCount, 6);
    assert.equal(r.RawSlowQueryList.length, 6);
    const sleeps = r.RawSlowQueryList.filter((x) => /^select\s+pg_sleep\((0\.2|0\.25|0\.3|\$1)\)/i.test(x.RawQuery));
    assert.equal(sleeps.length, 4, JSON.stringify(r.RawSlowQueryList.map((x) => x.RawQuery)));
    const q = r.RawSlowQueryList.find((x) => x.RawQuery === "SELECT pg_sleep(0.25)");
    assert.ok(q, "raw text as sent");
    assert.ok(q.Duration >= 250 && q.Duration < 300, `Duration ${q.Duration}`);
    assert.equal(q.DatabaseName, "postgres");
    assert.equal(q.UserName, ADMIN);
    assert.match(q.ClientAddr, /^127\.0\.0\.1:\d+$/);
    assert.match(q.SessionStartTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/);
    assert.ok(q.ProcessId > 0);
    assert.ok(q.SessionId.length > 0);
    // default order: SessionStartTime desc
    const starts = r.RawSlowQueryList.map((x) => x.SessionStartTime);
    assert.deepEqual(starts, [...starts].sort().reverse());
    // every statement is under 2 s: all in the first segment, 14 segments in all
    assert.equal(r.DurationAnalysis.length, 14);
    assert.equal(r.DurationAnalysis[0].TimeSegment, "1-2s");
    assert.equal(r.DurationAnalysis[0].Count, 6);
    assert.equal(r.DurationAnalysis.reduce((s, x) => s + x.Count, 0), r.TotalCount);
  });

  it("DescribeSlowQueryList orders by Duration and pages", async () => {
    const asc = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), OrderBy: "Duration", OrderByType: "asc", Limit: 100 });
    const d1 = asc.RawSlowQueryList.map((x) => x.Duration);
    assert.deepEqual(d1, [...d1].sort((x, y) => x - y));
    const page = await c.DescribeSlowQueryList({
      DBInstanceId: a.id,
      ...range(),
      OrderBy: "Duration",
      OrderByType: "asc",
      Limit: 2,
      Offset: 2,
    });
    assert.deepEqual(
      page.RawSlowQueryList.map((x) => x.Duration),
      d1.slice(2, 4),
    );
    assert.equal(page.TotalCount, asc.TotalCount);
    const far = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), Limit: 100, Offset: 9000 });
    assert.equal(far.RawSlowQueryList.length, 0);
    assert.equal(far.TotalCount, asc.TotalCount);
  });

  it("filters by database and by time range", async () => {
    const other = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), DatabaseName: "e2e_logs_db" });
    assert.equal(other.TotalCount, 1);
    assert.match(other.RawSlowQueryList[0].RawQuery, /in another db/);
    const all = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), Limit: 100 });
    assert.equal(all.TotalCount, 7);
    const none = await c.DescribeSlowQueryList({ DBInstanceId: a.id, DatabaseName: "no_such_db", ...range() });
    assert.equal(none.TotalCount, 0);
    const before = await c.DescribeSlowQueryList({
      DBInstanceId: a.id,
      StartTime: fmt(t0 - 3600000),
      EndTime: fmt(t0 - 60000),
    });
    assert.equal(before.TotalCount, 0);
    assert.equal(before.RawSlowQueryList.length, 0);
  });

  it("DescribeDBSlowlogs (legacy) reads the same data", async () => {
    const r = await slowlogsByCalls();
    const q = r.Detail.NormalQueries.find((x) => x.NormalQuery === "select pg_sleep($1)");
    assert.ok(q, JSON.stringify(r.Detail.NormalQueries.map((x) => x.NormalQuery)));
    assert.equal(q.Calls, 4);
    assert.equal(q.CallsGrids.reduce((s, x) => s + x, 0), 4);
    assert.ok(q.MinCostTime >= 200 && q.MaxCostTime >= 300);
    assert.equal(r.Detail.TotalCalls, 6);
    assert.equal(r.TotalCount, r.Detail.NormalQueries.length);
    // Offset is a page number
    const p1 = await c.request("DescribeDBSlowlogs", { DBInstanceId: a.id, ...range(), Limit: 1, Offset: 1 });
    assert.equal(p1.Detail.NormalQueries.length, 1);
    assert.notEqual(p1.Detail.NormalQueries[0].NormalQuery, r.Detail.NormalQueries[0].NormalQuery);
  });
});

describe("error logs", () => {
  async function errlogs(params = {}) {
    return c.DescribeDBErrlogs({ DBInstanceId: a.id, ...range(), Limit: 100, ...params });
  }

  it("finds the syntax error, the division by zero and the failed login in the range", async () => {
    const r = await errlogs();
    const msgs = r.Details.map((x) => x.ErrMsg);
    const syntax = r.Details.find((x) => /^ERROR: syntax error at or near "selec"/.test(x.ErrMsg));
    assert.ok(syntax, JSON.stringify(msgs));
    assert.match(syntax.ErrMsg, /STATEMENT: selec 1/);
    assert.equal(syntax.SqlStateCode, "42601");
    assert.equal(syntax.UserName, ADMIN);
    assert.equal(syntax.Database, "postgres");
    assert.match(syntax.ErrTime, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.ok(syntax.ErrTime >= fmt(t0));
    const div = r.Details.find((x) => /^ERROR: division by zero/.test(x.ErrMsg));
    assert.ok(div);
    assert.equal(div.SqlStateCode, "22012");
    const login = r.Details.find((x) => /^FATAL: password authentication failed for user/.test(x.ErrMsg));
    assert.ok(login, JSON.stringify(msgs));
    assert.equal(login.SqlStateCode, "28P01");
    assert.match(login.ClientAddr, /^127\.0\.0\.1:\d+$/);
    assert.equal(r.TotalCount, r.Details.length);
    const times = r.Details.map((x) => x.ErrTime);
    assert.deepEqual(times, [...times].sort(), "oldest first");
    // nothing of the service's own sessions, nothing but errors
    assert.ok(r.Details.every((x) => x.UserName !== "pgfleet_super"));
    assert.ok(r.Details.every((x) => /^(ERROR|FATAL|PANIC): /.test(x.ErrMsg)));
  });

  it("the time range bounds the result", async () => {
    const r = await errlogs({ StartTime: fmt(t0 - 7200000), EndTime: fmt(t0 - 3600000) });
    assert.equal(r.TotalCount, 0);
    assert.deepEqual(r.Details, []);
  });

  it("SearchKeys match literally, case-insensitively, all of them", async () => {
    const r = await errlogs({ SearchKeys: ["DIVISION"] });
    assert.ok(r.Details.length >= 1 && r.Details.every((x) => /division by zero/.test(x.ErrMsg)));
    assert.equal((await errlogs({ SearchKeys: ["division", "syntax"] })).TotalCount, 0);
    const lit = await errlogs({ SearchKeys: ["no.*such%table"] });
    assert.equal(lit.TotalCount, 1, "the literal text matches");
    assert.equal((await errlogs({ SearchKeys: [".*"] })).TotalCount, 1, "'.*' only where it is written");
    for (const k of ["no.such", "no_such", "%", "' OR 1=1 --", "(", "[", "\\", "^ERROR"]) {
      const x = await errlogs({ SearchKeys: [k] });
      assert.ok(x.Details.every((y) => y.ErrMsg.toLowerCase().includes(k.toLowerCase())), `key ${JSON.stringify(k)}`);
    }
    assert.equal((await errlogs({ SearchKeys: ["' OR 1=1 --"] })).TotalCount, 0);
    assert.equal((await errlogs({ SearchKeys: ["no.such"] })).TotalCount, 0);
  });

  it("LogFilters filter by column", async () => {
    const r = await errlogs({ LogFilters: [{ Type: "SqlStateCode", Compare: "EQS", Value: ["22012"] }] });
    assert.ok(r.TotalCount >= 1 && r.Details.every((x) => x.SqlStateCode === "22012"));
    const ex = await errlogs({ LogFilters: [{ Type: "ErrMsg", Compare: "EXC", Value: ["syntax", "division"] }] });
    assert.ok(ex.TotalCount >= 1 && ex.Details.every((x) => !/syntax|division/.test(x.ErrMsg)));
    await expectCode(errlogs({ LogFilters: [{ Type: "Bogus", Compare: "INC", Value: ["x"] }] }), BAD_VALUE);
    await expectCode(errlogs({ LogFilters: [{ Type: "UserName", Compare: "LIKE", Value: ["x"] }] }), BAD_VALUE);
  });

  it("filters by database", async () => {
    const r = await errlogs({ DatabaseName: "postgres" });
    assert.ok(r.TotalCount >= 3 && r.Details.every((x) => x.Database === "postgres"));
    assert.equal((await errlogs({ DatabaseName: "e2e_logs_db" })).TotalCount, 0);
  });

  it("pages", async () => {
    const all = await errlogs();
    const p = await errlogs({ Limit: 2, Offset: 1 });
    assert.deepEqual(p.Details, all.Details.slice(1, 3));
    assert.equal(p.TotalCount, all.TotalCount);
  });
});

describe("passwords are redacted", () => {
  it("an ALTER ROLE ... PASSWORD in an error never shows the password", async () => {
    const r = await c.DescribeDBErrlogs({ DBInstanceId: a.id, ...range(), Limit: 100 });
    const text = JSON.stringify(r);
    assert.ok(!text.includes(SECRET), "the password is not in DescribeDBErrlogs");
    const alter = r.Details.filter((x) => /STATEMENT: ALTER ROLE/i.test(x.ErrMsg));
    assert.equal(alter.length, 2, JSON.stringify(r.Details.map((x) => x.ErrMsg)));
    assert.ok(alter.every((x) => x.ErrMsg.includes("[REDACTED]")));
  });

  it("a slow statement that mentions a password keeps it out of every view", async () => {
    const list = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), Limit: 100 });
    const an = await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), Limit: 100 });
    const legacy = await c.request("DescribeDBSlowlogs", { DBInstanceId: a.id, ...range(), Limit: 100 });
    for (const [what, r] of [["list", list], ["analysis", an], ["legacy", legacy]])
      assert.ok(!JSON.stringify(r).includes(SECRET), `the password is not in ${what}`);
    assert.ok(list.RawSlowQueryList.some((x) => x.RawQuery.includes("'[REDACTED]'")));
  });
});

describe("bad input", () => {
  const id = () => a.id;
  const actions = [
    ["DescribeSlowQueryList", true],
    ["DescribeSlowQueryAnalysis", true],
    ["DescribeDBErrlogs", true],
    ["DescribeDBSlowlogs", false], // does not document ParameterValueExceedError
  ];
  const call = (action, params) => c.request(action, { DBInstanceId: id(), ...params });

  it("a reversed range", async () => {
    for (const [action] of actions)
      await expectCode(call(action, { StartTime: fmt(Date.now()), EndTime: fmt(Date.now() - 3600000) }), BAD_VALUE, action);
  });

  it("a range longer than the retention, or starting before it", async () => {
    const now = Date.now();
    for (const [action, exceed] of actions) {
      const code = exceed ? EXCEED : BAD_VALUE;
      await expectCode(call(action, { StartTime: fmt(now - 8 * 86400000), EndTime: fmt(now) }), code, `${action} 8 days`);
      await expectCode(call(action, { StartTime: fmt(now - 9 * 86400000), EndTime: fmt(now - 8 * 86400000) }), code,
        `${action} 9 days ago`);
    }
  });

  it("malformed times", async () => {
    for (const bad of ["yesterday", "2026-13-01 00:00:00", "2026-02-30 00:00:00", "2026-11-27T10:00:00", "", "2026-11-27 10:00:00; DROP TABLE x"])
      for (const [action] of actions)
        await expectOneOf(call(action, { StartTime: bad, EndTime: fmt(Date.now()) }), [BAD_VALUE, "InvalidParameterValue"],
          `${action} ${JSON.stringify(bad)}`);
  });

  it("huge pages", async () => {
    for (const [action] of actions) {
      await expectOneOf(call(action, { ...range(), Limit: 1000000 }), ["InvalidParameterValue"], `${action} Limit`);
      await expectOneOf(call(action, { ...range(), Limit: 0 }), ["InvalidParameterValue"], `${action} Limit 0`);
      await expectOneOf(call(action, { ...range(), Offset: -1 }), ["InvalidParameterValue"], `${action} Offset -1`);
    }
    for (const [action, exceed] of actions)
      await expectCode(call(action, { ...range(), Limit: 100, Offset: 2 ** 40 }), exceed ? EXCEED : BAD_VALUE, `${action} Offset`);
    await expectCode(call("DescribeSlowQueryList", { ...range(), Limit: 100, Offset: 9950 }), EXCEED);
  });

  it("too many or too long search keys", async () => {
    await expectCode(call("DescribeDBErrlogs", { ...range(), SearchKeys: Array.from({ length: 21 }, (_, i) => `k${i}`) }), EXCEED);
    await expectCode(call("DescribeDBErrlogs", { ...range(), SearchKeys: ["x".repeat(257)] }), EXCEED);
  });

  it("an unknown instance", async () => {
    for (const [action] of actions)
      await expectOneOf(c.request(action, { DBInstanceId: "postgres-nosuch00", ...range() }), NOT_FOUND_CODES, action);
  });
});

describe("tenants", () => {
  it("another tenant cannot read the instance's logs", async () => {
    for (const action of ["DescribeSlowQueryList", "DescribeSlowQueryAnalysis", "DescribeDBErrlogs", "DescribeDBSlowlogs"])
      await expectOneOf(cb.request(action, { DBInstanceId: a.id, ...range() }), NOT_FOUND_CODES, `tenant B ${action}`);
  });

  it("each tenant sees only its own statements", async () => {
    const rb = await cb.DescribeSlowQueryList({ DBInstanceId: b.id, ...range(), Limit: 100 });
    assert.ok(rb.RawSlowQueryList.some((x) => /tenant-B-marker/.test(x.RawQuery)), "B sees its own");
    assert.ok(!JSON.stringify(rb).includes("tenant-A-marker"), "B never sees A's statements");
    const ra = await c.DescribeSlowQueryList({ DBInstanceId: a.id, ...range(), Limit: 100 });
    assert.ok(!JSON.stringify(ra).includes("tenant-B-marker"), "A never sees B's statements");
    const eb = await cb.DescribeDBErrlogs({ DBInstanceId: b.id, ...range(), Limit: 100 });
    assert.ok(!eb.Details.some((x) => /division by zero|selec/.test(x.ErrMsg)), "A's errors are not in B's log");
  });
});

describe("large logs", () => {
  it("are read on several threads, each file by one, and merged", async () => {
    // tenant A's log file, copied under an earlier name: the aggregate then reads two files,
    // one per thread here (log_scan_split_mb 0), and counts every statement twice
    const nodes = path.join(d.dataDir, "nodes");
    const logs = fs
      .readdirSync(nodes)
      .map((n) => path.join(nodes, n, "log"))
      .filter((dir) => fs.existsSync(dir))
      .flatMap((dir) => fs.readdirSync(dir).filter((f) => /^postgresql-.*\.csv$/.test(f)).map((f) => path.join(dir, f)));
    const mine = logs.filter((f) => fs.readFileSync(f, "utf8").includes("tenant-A-marker"));
    assert.equal(mine.length, 1, `one log file of tenant A's instance: ${JSON.stringify(logs)}`);
    const before1 = await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), DatabaseName: "postgres" });
    const copy = path.join(path.dirname(mine[0]), "postgresql-2000-01-01_000000.csv");
    fs.copyFileSync(mine[0], copy);
    try {
      const r = await c.DescribeSlowQueryAnalysis({ DBInstanceId: a.id, ...range(), DatabaseName: "postgres" });
      assert.equal(r.Detail.TotalCallNum, 2 * before1.Detail.TotalCallNum);
      assert.equal(r.TotalCount, before1.TotalCount, "the same queries");
      const q = findItem(r.Detail.AnalysisItems, /^select pg_sleep\(\$1\)$/);
      const q1 = findItem(before1.Detail.AnalysisItems, /^select pg_sleep\(\$1\)$/);
      assert.equal(q.CallNum, 2 * q1.CallNum);
      assert.equal(q.MinCostTime, q1.MinCostTime);
      assert.equal(q.MaxCostTime, q1.MaxCostTime);
      assert.ok(Math.abs(q.CostTime - 2 * q1.CostTime) < 1e-6);
      assert.equal(q.ClientAddr, q1.ClientAddr);
      // the legacy action, with its grids (the per-thread aggregates' grids are added up)
      const legacy = await slowlogsByCalls();
      assert.equal(legacy.Detail.TotalCalls, 2 * before1.Detail.TotalCallNum);
      const lq = legacy.Detail.NormalQueries.find((x) => x.NormalQuery === "select pg_sleep($1)");
      assert.equal(lq.Calls, 2 * q1.CallNum);
      assert.equal(lq.CallsGrids.reduce((sum, x) => sum + x, 0), 2 * q1.CallNum);
    } finally {
      fs.rmSync(copy, { force: true });
    }
  });
});

describe("many errors (last: it floods the log)", () => {
  it("keeps the newest 10000 matches", async () => {
    const marker = `bulk${Date.now()}`;
    await withPg(adminOf(a), async (cl) => {
      for (let i = 0; i < 10050; i++) await cl.query(`select 1/0 as ${marker}_${i}`).catch(() => {});
    });
    const r = await waitFor(
      async () => {
        const x = await c.DescribeDBErrlogs({ DBInstanceId: a.id, ...range(), SearchKeys: [marker], Offset: 9900, Limit: 100 });
        return x.Details.at(-1)?.ErrMsg.endsWith(`${marker}_10049`) ? x : null;
      },
      { timeoutMs: 20000, intervalMs: 250, what: "the 10050 errors in the log" },
    );
    assert.equal(r.TotalCount, 10000);
    assert.equal(r.Details.length, 100);
    const first = await c.DescribeDBErrlogs({ DBInstanceId: a.id, ...range(), SearchKeys: [marker], Limit: 1 });
    assert.ok(first.Details[0].ErrMsg.endsWith(`${marker}_50`), first.Details[0].ErrMsg);
  });
});

describe("the daemon", () => {
  it("is still healthy", async () => {
    const r = await sdkError(c.DescribeSlowQueryList({ DBInstanceId: "x", StartTime: "a", EndTime: "b" })).catch((e) => e);
    assert.ok(r.code, `an API error, not a crash${crashNote()}`);
  });
});
