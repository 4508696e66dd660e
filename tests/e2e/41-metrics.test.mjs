// 41-metrics: GET /metrics is a Prometheus text page (checked line by line by
// a strict parser of the exposition format 0.0.4 below) whose counters move
// with the traffic: API requests by action and error code, their latency
// histogram, tasks by kind and state, instances by status, and per instance
// up, connections, database size, replication and WAL archiving. Unknown
// action names cannot add series; metrics_token guards the page.

import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";

import { expectCode, startDaemon } from "./lib/daemon.mjs";
import { createInstance, disposeFleet, pg, pgConfig, startFleet, waitFor } from "./lib/instances.mjs";

let d;
let c;
let inst;

function get(port, path, { method = "GET", headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (x) => chunks.push(x));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end();
  });
}

// ---- a strict parser of the Prometheus text format ----

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s, where) {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  assert.match(s, /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/, `${where}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

/** Labels of `{...}` starting at s[i] === "{": [labels, index after "}"]. */
function parseLabels(s, i, where) {
  const labels = {};
  assert.equal(s[i], "{");
  i++;
  while (s[i] !== "}") {
    const eq = s.indexOf("=", i);
    assert.ok(eq > i, `${where}: label without '='`);
    const name = s.slice(i, eq);
    assert.match(name, LABEL, `${where}: bad label name ${JSON.stringify(name)}`);
    assert.ok(!(name in labels), `${where}: duplicate label ${name}`);
    assert.equal(s[eq + 1], '"', `${where}: label value must be quoted`);
    let j = eq + 2;
    let v = "";
    for (;;) {
      assert.ok(j < s.length, `${where}: unterminated label value`);
      const ch = s[j];
      if (ch === "\\") {
        const nx = s[j + 1];
        assert.ok(nx === "\\" || nx === '"' || nx === "n", `${where}: bad escape \\${nx}`);
        v += nx === "n" ? "\n" : nx;
        j += 2;
      } else if (ch === '"') {
        j++;
        break;
      } else {
        assert.notEqual(ch, "\n");
        v += ch;
        j++;
      }
    }
    labels[name] = v;
    if (s[j] === ",") j++;
    else assert.equal(s[j], "}", `${where}: expected ',' or '}' after a label`);
    i = j;
  }
  return [labels, i + 1];
}

/**
 * Parse a page. Returns Map family -> {type, help, samples: [{name, labels, value}]}.
 * Fails on anything the format does not allow: a sample before its TYPE, a
 * family split in two, TYPE twice, duplicate series, bad names, escapes,
 * values; histograms with non-cumulative buckets or +Inf != _count.
 */
function parsePrometheus(text) {
  assert.ok(text.endsWith("\n"), "the page ends with a newline");
  const families = new Map();
  const seen = new Set();
  let current = null;
  const familyOf = (name) => {
    for (const suffix of ["_bucket", "_sum", "_count", ""]) {
      if (suffix && !name.endsWith(suffix)) continue;
      const base = suffix ? name.slice(0, -suffix.length) : name;
      const f = families.get(base);
      if (f && (suffix === "" || f.type === "histogram" || f.type === "summary")) return [base, f];
    }
    return [null, null];
  };
  text.split("\n").slice(0, -1).forEach((line, n) => {
    const where = `line ${n + 1} ${JSON.stringify(line.slice(0, 120))}`;
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const rest = line.slice(7);
      const sp = rest.indexOf(" ");
      const name = sp < 0 ? rest : rest.slice(0, sp);
      assert.match(name, NAME, where);
      const f = families.get(name) ?? { type: "untyped", help: null, samples: [], typed: false };
      if (!families.has(name)) {
        assert.ok(!seen.has(name), `${where}: family ${name} split`);
        families.set(name, f);
      }
      if (line.startsWith("# TYPE ")) {
        assert.ok(!f.typed, `${where}: TYPE twice`);
        assert.equal(f.samples.length, 0, `${where}: TYPE after samples`);
        f.type = rest.slice(sp + 1);
        assert.ok(TYPES.has(f.type), `${where}: unknown type`);
        f.typed = true;
      } else {
        assert.equal(f.help, null, `${where}: HELP twice`);
        f.help = rest.slice(sp + 1);
        assert.ok(!/\\[^\\n]/.test(f.help.replace(/\\\\/g, "")), `${where}: bad escape in HELP`);
      }
      if (current && current !== name) seen.add(current);
      current = name;
      return;
    }
    assert.ok(!line.startsWith("#") || line.startsWith("# "), `${where}: comment`);
    if (line.startsWith("#")) return;
    assert.ok(line.length > 0, `${where}: empty line`);
    const brace = line.indexOf("{");
    const firstSp = line.indexOf(" ");
    let name;
    let labels = {};
    let i;
    if (brace >= 0 && (firstSp < 0 || brace < firstSp)) {
      name = line.slice(0, brace);
      [labels, i] = parseLabels(line, brace, where);
    } else {
      name = line.slice(0, firstSp);
      i = firstSp;
    }
    assert.match(name, NAME, where);
    assert.equal(line[i], " ", `${where}: one space before the value`);
    const parts = line.slice(i + 1).split(" ");
    assert.ok(parts.length === 1 || (parts.length === 2 && /^-?\d+$/.test(parts[1])), `${where}: value [timestamp]`);
    const value = parseValue(parts[0], where);
    const [base, f] = familyOf(name);
    assert.ok(f && f.typed, `${where}: sample of a family without TYPE`);
    assert.equal(base, current, `${where}: sample outside its family's block`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!f.keys?.has(key), `${where}: duplicate series`);
    (f.keys ??= new Set()).add(key);
    if (f.type === "counter") assert.ok(value >= 0, `${where}: negative counter`);
    f.samples.push({ name, labels, value });
  });
  for (const [name, f] of families) if (f.type === "histogram") checkHistogram(name, f);
  return families;
}

function checkHistogram(name, f) {
  const groups = new Map();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const k = JSON.stringify(Object.entries(rest).sort());
    if (!groups.has(k)) groups.set(k, { buckets: [], sum: null, count: null });
    const g = groups.get(k);
    if (s.name === `${name}_bucket`) g.buckets.push([le === "+Inf" ? Infinity : Number(le), s.value]);
    else if (s.name === `${name}_sum`) g.sum = s.value;
    else if (s.name === `${name}_count`) g.count = s.value;
  }
  for (const [k, g] of groups) {
    assert.ok(g.buckets.length > 0 && g.count !== null && g.sum !== null, `${name}${k}: buckets, _sum and _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      assert.ok(g.buckets[i][0] > g.buckets[i - 1][0], `${name}${k}: le ascending`);
      assert.ok(g.buckets[i][1] >= g.buckets[i - 1][1], `${name}${k}: buckets cumulative`);
    }
    assert.equal(g.buckets.at(-1)[0], Infinity, `${name}${k}: ends with +Inf`);
    assert.equal(g.buckets.at(-1)[1], g.count, `${name}${k}: +Inf == _count`);
  }
}

/** The value of the series `name` with exactly `labels` (subset match when partial). */
function value(families, name, labels = {}, { partial = false } = {}) {
  for (const f of families.values())
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const want = Object.entries(labels);
      const ok = want.every(([k, v]) => s.labels[k] === v) && (partial || want.length === Object.keys(s.labels).length);
      if (ok) return s.value;
    }
  return undefined;
}

async function scrape(port = d.port) {
  const r = await get(port, "/metrics");
  assert.equal(r.status, 200, r.body.slice(0, 300));
  assert.match(r.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(r.body);
}

before(async () => {
  d = await startFleet();
  c = d.client();
  inst = await createInstance(c, { Name: "e2e-metrics" });
});

after(async () => {
  try {
    await d.stop(); // exit 0 and no sanitizer report
  } finally {
    await disposeFleet(d);
  }
});

describe("the parser itself", () => {
  it("refuses what the format does not allow", () => {
    const bad = [
      "x 1\n", // no TYPE
      "# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", // duplicate
      "# TYPE x counter\nx{a=1} 1\n", // unquoted
      "# TYPE x counter\nx{a=\"\\t\"} 1\n", // bad escape
      "# TYPE x counter\nx 1\n# TYPE y gauge\ny 1\nx 2\n", // split family
      "# TYPE x counter\nx one\n",
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
      "# TYPE x counter\nx 1",
      "# TYPE 9x counter\n",
    ];
    for (const t of bad) assert.throws(() => parsePrometheus(t), undefined, JSON.stringify(t));
    const ok = parsePrometheus('# HELP x a \\\\ b\n# TYPE x counter\nx{a="q\\"\\n\\\\"} 1e+20\n');
    assert.equal(value(ok, "x", { a: 'q"\n\\' }), 1e20);
  });
});

describe("/metrics", () => {
  it("is a valid page with every family", async () => {
    const m = await scrape();
    for (const f of [
      "pgfleet_api_requests_total",
      "pgfleet_api_request_duration_seconds",
      "pgfleet_tasks",
      "pgfleet_instances",
      "pgfleet_instance_up",
      "pgfleet_instance_connections",
      "pgfleet_instance_database_size_bytes",
      "pgfleet_instance_in_recovery",
      "pgfleet_instance_replication_standbys",
      "pgfleet_instance_replication_lag_bytes",
      "pgfleet_instance_wal_archived_total",
      "pgfleet_instance_wal_archive_failed_total",
    ])
      assert.ok(m.has(f), `family ${f}`);
    assert.equal(m.get("pgfleet_api_request_duration_seconds").type, "histogram");
    assert.equal(m.get("pgfleet_api_requests_total").type, "counter");
  });

  it("API counters and the latency histogram move with the traffic", async () => {
    const ok = { action: "DescribeRegions", code: "OK" };
    const before = await scrape();
    const n0 = value(before, "pgfleet_api_requests_total", ok) ?? 0;
    const h0 = value(before, "pgfleet_api_request_duration_seconds_count", { action: "DescribeRegions" }) ?? 0;
    for (let i = 0; i < 5; i++) await c.DescribeRegions({});
    const bad = d.client({ secretKey: "x".repeat(32) });
    await expectCode(bad.DescribeRegions({}), "AuthFailure.SignatureFailure");
    await expectCode(bad.DescribeRegions({}), "AuthFailure.SignatureFailure");
    await expectCode(c.DescribeDBInstanceAttribute({ DBInstanceId: "postgres-nosuch00" }), "ResourceNotFound.InstanceNotFoundError");
    const m = await scrape();
    assert.equal(value(m, "pgfleet_api_requests_total", ok), n0 + 5);
    assert.equal(
      value(m, "pgfleet_api_requests_total", { action: "DescribeRegions", code: "AuthFailure.SignatureFailure" }),
      (value(before, "pgfleet_api_requests_total", { action: "DescribeRegions", code: "AuthFailure.SignatureFailure" }) ?? 0) + 2,
    );
    assert.ok(
      value(m, "pgfleet_api_requests_total", { action: "DescribeDBInstanceAttribute", code: "ResourceNotFound.InstanceNotFoundError" }) >= 1,
    );
    assert.equal(value(m, "pgfleet_api_request_duration_seconds_count", { action: "DescribeRegions" }), h0 + 7);
    assert.ok(value(m, "pgfleet_api_request_duration_seconds_sum", { action: "DescribeRegions" }) > 0);
  });

  it("names a client makes up do not become series", async () => {
    for (let i = 0; i < 20; i++) await c.request(`NoSuchAction${i}x`, {}).catch(() => {});
    const m = await scrape();
    const actions = new Set(m.get("pgfleet_api_requests_total").samples.map((s) => s.labels.action));
    assert.ok(![...actions].some((a) => a.startsWith("NoSuchAction")), [...actions].join(","));
    assert.ok(value(m, "pgfleet_api_requests_total", { action: "unknown", code: "InvalidAction" }) >= 20);
  });

  it("instances, tasks and the instance's own figures", async () => {
    const extra = [];
    try {
      for (let i = 0; i < 3; i++) {
        const cl = new pg.Client(pgConfig({ host: inst.ip }));
        cl.on("error", () => {});
        await cl.connect();
        extra.push(cl);
      }
      const m = await scrape();
      const lbl = { instance: inst.id };
      assert.ok(value(m, "pgfleet_instances", { status: "running" }) >= 1);
      assert.ok(value(m, "pgfleet_tasks", { kind: "instance.create", state: "succeeded" }) >= 1);
      assert.equal(value(m, "pgfleet_instance_up", lbl), 1);
      assert.ok(value(m, "pgfleet_instance_connections", lbl) >= 3, `connections ${value(m, "pgfleet_instance_connections", lbl)}`);
      assert.ok(value(m, "pgfleet_instance_database_size_bytes", lbl) > 1e6);
      assert.equal(value(m, "pgfleet_instance_in_recovery", lbl), 0);
      assert.equal(value(m, "pgfleet_instance_replication_standbys", lbl), 0);
      assert.ok(value(m, "pgfleet_instance_wal_archived_total", lbl) >= 0);
    } finally {
      for (const cl of extra) await cl.end().catch(() => {});
    }
    await waitFor(async () => value(await scrape(), "pgfleet_instance_connections", { instance: inst.id }) < 3, {
      what: "connections to drop",
      timeoutMs: 10000,
      intervalMs: 200,
    });
  });

  it("an instance whose server is down is up 0", async () => {
    const b = await createInstance(c, { Name: "e2e-metrics-b" });
    await c.IsolateDBInstances({ DBInstanceIdSet: [b.id] });
    await waitFor(async () => value(await scrape(), "pgfleet_instance_up", { instance: b.id }) === 0, {
      what: "up 0 once isolated",
      timeoutMs: 30000,
      intervalMs: 200,
    });
    const m = await scrape();
    assert.equal(value(m, "pgfleet_instance_connections", { instance: b.id }), undefined, "no figures when down");
    assert.equal(value(m, "pgfleet_instance_up", { instance: inst.id }), 1);
  });

  it("other paths and methods", async () => {
    assert.equal((await get(d.port, "/metricsfoo")).status, 404);
    assert.equal((await get(d.port, "/metrics/x")).status, 404);
    const head = await get(d.port, "/metrics", { method: "HEAD" });
    assert.equal(head.status, 200);
  });
});

describe("metrics_token", () => {
  it("guards the page when set", async () => {
    const token = "s3cret-token";
    const t = await startDaemon({ config: { metrics_token: token } });
    try {
      assert.equal((await get(t.port, "/metrics")).status, 401);
      assert.equal((await get(t.port, "/metrics", { headers: { Authorization: `Bearer ${token}x` } })).status, 401);
      assert.equal((await get(t.port, "/metrics", { headers: { Authorization: token } })).status, 401);
      const r = await get(t.port, "/metrics", { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(r.status, 200);
      parsePrometheus(r.body);
    } finally {
      await t.stop();
      t.cleanup();
    }
  });
});
