// 02-gateway-protocol: what a signed request may look like, and how every
// refusal is answered. Unknown actions and versions, each kind of bad
// parameter (missing, wrong type, out of range / not in enum, unknown),
// numeric strings for integers, flattened parameters over GET, duplicates
// and index gaps, size limits per transport, malformed bodies, methods and
// content types, the error message language, per-action per-tenant rate
// limits, the envelope (HTTP 200 always, RequestId a fresh uuid) and
// UnsupportedOperation for the actions without a handler yet.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";

import {
  crashNoteSoon,
  expectCode,
  expectEnvelope,
  replaceIfDead,
  sdkError,
  startDaemon,
  UUID_RE,
} from "./lib/daemon.mjs";
import { loadSpec, minimalParams, requiredInputs } from "./lib/spec.mjs";

const VALIDATION_CODES = new Set(["MissingParameter", "InvalidParameter", "InvalidParameterValue", "UnknownParameter"]);
const CJK = /[\u3400-\u9fff]/;

let d;
let c; // root SDK client, TC3 POST
let classesQuery;
const crashes = [];

async function setup() {
  d = await startDaemon();
  c = d.client();
  const zones = await c.DescribeZones({});
  const versions = await c.DescribeDBVersions({});
  classesQuery = {
    Zone: zones.ZoneSet[0].Zone,
    DBEngine: "postgresql",
    DBMajorVersion: versions.VersionSet[0].DBMajorVersion,
  };
  return d;
}

before(setup);
beforeEach(async () => {
  d = await replaceIfDead(d, crashes, setup);
});

after(async () => {
  if (d) {
    await d.stop({ check: false });
    d.cleanup();
  }
});

/**
 * Assert that a call got past validation: it succeeded, or failed with a
 * code that is not a validation error (UnsupportedOperation for an action
 * without a handler, a not-found for a made-up id, ...). Returns the error
 * or null.
 */
async function expectValidated(promise, what) {
  try {
    await promise;
    return null;
  } catch (e) {
    if (!e.code) assert.fail(`${what}: transport failure instead of an API answer: ${e.message}${await crashNoteSoon()}`);
    assert.ok(!VALIDATION_CODES.has(e.code), `${what}: a valid request was refused with ${e.code}: ${e.message}`);
    assert.ok(!e.code.startsWith("AuthFailure"), `${what}: ${e.code}: ${e.message}`);
    return e;
  }
}

/** Fail with `code` and a message that names `name` (a parameter or action). */
async function expectCodeNaming(promise, code, name, what) {
  const e = await expectCode(promise, code, what);
  assert.ok(e.message.includes(name), `${what}: the ${code} message should name \`${name}\`: "${e.message}"`);
  return e;
}

describe("envelope", () => {
  it("RequestId is a uuid and differs on every request", async () => {
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push((await c.DescribeRegions({})).RequestId);
    for (const id of ids) assert.match(id, UUID_RE);
    assert.equal(new Set(ids).size, ids.length, "20 requests, 20 distinct RequestIds");
  });

  it("errors carry a fresh RequestId too", async () => {
    const a = await sdkError(c.request("NoSuchActionHere", {}));
    const b = await sdkError(c.request("NoSuchActionHere", {}));
    assert.match(a.requestId, UUID_RE);
    assert.notEqual(a.requestId, b.requestId);
  });

  it("success and errors are all HTTP 200 application/json", async () => {
    const cases = [
      [d.buildTc3({ action: "DescribeRegions" }), null],
      [d.buildTc3({ action: "NoSuchActionHere" }), "InvalidAction"],
      [d.buildTc3({ action: "DescribeRegions", secretKey: "wrong" }), "AuthFailure.SignatureFailure"],
      [d.buildTc3({ action: "DescribeRegions", body: "{nope" }), "InvalidParameter"],
    ];
    for (const [req, code] of cases) {
      const x = await d.send(req);
      expectEnvelope(x, code, `expecting ${code ?? "success"}`);
      assert.match(x.response.headers["content-type"] ?? "", /^application\/json/, "Content-Type of the answer");
    }
  });
});

describe("action and version", () => {
  it("an unknown action is InvalidAction, named in the message", async () => {
    await expectCodeNaming(c.request("DescribeUnicorns", {}), "InvalidAction", "DescribeUnicorns", "unknown action");
  });

  it("action names are case-sensitive", async () => {
    await expectCode(c.request("describeregions", {}), "InvalidAction", "describeregions");
  });

  it("a version other than 2017-03-12 is NoSuchVersion", async () => {
    for (const version of ["2018-01-01", "2017-03-13", ""]) {
      const x = await d.tc3({ action: "DescribeRegions", version });
      const r = expectEnvelope(x, undefined, `version ${JSON.stringify(version)}`);
      assert.ok(r.Error, `version ${JSON.stringify(version)} must be refused`);
      assert.ok(
        version === "" ? ["NoSuchVersion", "MissingParameter"].includes(r.Error.Code) : r.Error.Code === "NoSuchVersion",
        `version ${JSON.stringify(version)}: got ${r.Error.Code}`,
      );
    }
  });

  it("v1: a bad Version is NoSuchVersion as well", async () => {
    expectEnvelope(await d.v1({ action: "DescribeRegions", version: "2019-01-01" }), "NoSuchVersion", "v1 Version");
  });

  it("a missing X-TC-Action, X-TC-Version or X-TC-Timestamp is MissingParameter", async () => {
    for (const h of ["X-TC-Action", "X-TC-Version", "X-TC-Timestamp"]) {
      const x = await d.tc3({ action: "DescribeRegions", omit: [h] });
      expectEnvelope(x, "MissingParameter", `without ${h}`);
    }
  });

  it("v1: a missing Action or Nonce is MissingParameter", async () => {
    for (const name of ["Action", "Nonce"]) {
      const x = await d.v1({
        action: "DescribeRegions",
        tamper: (pairs) => pairs.filter(([k]) => k !== name),
      });
      expectEnvelope(x, "MissingParameter", `v1 without ${name}`);
    }
  });
});

describe("parameter validation", () => {
  it("a missing required parameter is MissingParameter naming it", async () => {
    const { DBMajorVersion, ...rest } = classesQuery;
    await expectCodeNaming(c.DescribeClasses(rest), "MissingParameter", "DBMajorVersion", "DescribeClasses without DBMajorVersion");
    await expectCode(c.DescribeClasses({}), "MissingParameter", "DescribeClasses {}");
    await expectCodeNaming(c.request("DescribeDBInstanceHAConfig", {}), "MissingParameter", "DBInstanceId", "HAConfig {}");
  });

  it("a value of the wrong type is InvalidParameter naming the parameter", async () => {
    const cases = [
      ["DescribeDBInstances", { Limit: "ten" }, "Limit"],
      ["DescribeDBInstances", { Limit: true }, "Limit"],
      ["DescribeDBInstances", { Limit: "10.5" }, "Limit"],
      ["DescribeDBInstances", { Limit: " 10" }, "Limit"],
      ["DescribeDBInstances", { Filters: "db-instance-id" }, "Filters"],
      ["DescribeDBInstances", { Filters: [{ Name: "db-instance-id", Values: "x" }] }, "Filters.0.Values"],
      ["DescribeDBInstances", { Filters: ["x"] }, "Filters.0"],
      ["DescribeClasses", { ...classesQuery, Zone: { a: 1 } }, "Zone"],
      ["DescribeClasses", { ...classesQuery, DBEngine: ["postgresql"] }, "DBEngine"],
    ];
    for (const [action, params, name] of cases) {
      await expectCodeNaming(c.request(action, params), "InvalidParameter", name, `${action} ${JSON.stringify(params)}`);
    }
  });

  it("a value out of range or not in the enum is InvalidParameterValue naming the parameter", async () => {
    const cases = [
      ["DescribeDBInstances", { Limit: -1 }, "Limit"],
      ["DescribeDBInstances", { Limit: 101 }, "Limit"],
      ["DescribeDBInstances", { Offset: -1 }, "Offset"],
      ["DescribeDBInstances", { OrderByType: "up" }, "OrderByType"],
      ["DescribeDBInstances", { OrderBy: "Nonsense" }, "OrderBy"],
      ["DescribeClasses", { ...classesQuery, DBEngine: "oracle" }, "DBEngine"],
      [
        "ModifyDBInstanceHAConfig",
        { DBInstanceId: "postgres-aaaaaaaa", SyncMode: "Async", MaxStandbyLatency: 1073741824, MaxStandbyLag: 11 },
        "MaxStandbyLag",
      ],
    ];
    for (const [action, params, name] of cases) {
      await expectCodeNaming(c.request(action, params), "InvalidParameterValue", name, `${action} ${JSON.stringify(params)}`);
    }
  });

  it("an unknown parameter is UnknownParameter naming it, at any depth", async () => {
    await expectCodeNaming(c.request("DescribeRegions", { Foo: 1 }), "UnknownParameter", "Foo", "DescribeRegions {Foo}");
    await expectCodeNaming(
      c.request("DescribeDBInstances", { Filters: [{ Name: "db-instance-id", Values: ["x"], Bogus: "1" }] }),
      "UnknownParameter",
      "Bogus",
      "Filters.0.Bogus",
    );
    await expectCode(c.request("DescribeClasses", { ...classesQuery, zone: "x" }), "UnknownParameter", "lower-case zone");
  });

  it("numeric strings are accepted for integers (also beyond 32 bits)", async () => {
    await expectValidated(c.request("DescribeDBInstances", { Limit: "10", Offset: "0" }), "Limit/Offset as strings");
    await expectValidated(
      c.request("ModifyDBInstanceHAConfig", {
        DBInstanceId: "postgres-aaaaaaaa",
        SyncMode: "Semi-sync",
        MaxStandbyLatency: "322122547200",
        MaxStandbyLag: "10",
      }),
      "64-bit integer as a string",
    );
    await expectValidated(
      c.request("IsolateDBInstances", { DBInstanceIdSet: ["postgres-aaaaaaaa"] }),
      "a realistic instance id in a one-item array",
    );
  });

  it("JSON null means not set", async () => {
    const x = await d.tc3({ action: "DescribeDBInstances", body: '{"Limit":null,"Filters":null}' });
    const r = expectEnvelope(x, undefined, "nulls");
    assert.ok(!r.Error || !VALIDATION_CODES.has(r.Error.Code), `nulls refused: ${JSON.stringify(r.Error)}`);
  });

  it("a parameter is validated before UnsupportedOperation is answered", async () => {
    // DescribeDBInstanceHAConfig has no handler yet or a real one; either way a
    // bad type must be caught first.
    await expectCode(c.request("DescribeDBInstanceHAConfig", { DBInstanceId: 5 }), "InvalidParameter", "DBInstanceId: 5");
  });
});

describe("flattened parameters (GET and v1)", () => {
  it("TC3 GET: nested Filters arrive intact", async () => {
    const g = d.client({ reqMethod: "GET" });
    await expectValidated(
      g.DescribeDBInstances({ Filters: [{ Name: "db-instance-id", Values: ["a", "b"] }], Limit: 5 }),
      "TC3 GET Filters",
    );
    await expectCodeNaming(
      g.DescribeDBInstances({ Filters: [{ Name: "db-instance-id", Values: ["a"] }], Limit: 500 }),
      "InvalidParameterValue",
      "Limit",
      "TC3 GET Limit=500 (a string on the wire, typed by the schema)",
    );
  });

  it("v1 GET and POST: nested Filters arrive intact", async () => {
    for (const reqMethod of ["GET", "POST"]) {
      const v = d.client({ signMethod: "HmacSHA256", reqMethod });
      await expectValidated(
        v.DescribeDBInstances({ Filters: [{ Name: "db-instance-id", Values: ["a", "b"] }], Limit: 5 }),
        `v1 ${reqMethod} Filters`,
      );
      await expectCodeNaming(
        v.DescribeDBInstances({ Filters: [{ Name: "db-instance-id", Values: ["a"], Oops: "1" }] }),
        "UnknownParameter",
        "Oops",
        `v1 ${reqMethod} Filters.0.Oops`,
      );
    }
  });

  it("a duplicated name is InvalidParameter (TC3 GET and v1)", async () => {
    let x = await d.tc3({ action: "DescribeDBInstances", method: "GET", query: "Limit=1&Limit=2" });
    expectEnvelope(x, "InvalidParameter", "TC3 GET Limit twice");
    x = await d.v1({ action: "DescribeDBInstances", params: { Limit: 1 }, extraPairs: [["Limit", "2"]] });
    expectEnvelope(x, "InvalidParameter", "v1 Limit twice");
  });

  it("a gap in array indexes is InvalidParameter", async () => {
    const x = await d.tc3({
      action: "DescribeDBInstances",
      method: "GET",
      query: "Filters.1.Name=db-instance-id&Filters.1.Values.0=x",
    });
    expectEnvelope(x, "InvalidParameter", "Filters.1 without Filters.0");
  });

  it("a name used both as a leaf and as a prefix is InvalidParameter", async () => {
    const x = await d.tc3({ action: "DescribeDBInstances", method: "GET", query: "Filters.0=x&Filters.0.Name=y" });
    expectEnvelope(x, "InvalidParameter", "Filters.0 and Filters.0.Name");
  });

  it("an array index over the cap is InvalidParameter", async () => {
    const x = await d.tc3({ action: "DescribeDBInstances", method: "GET", query: "Filters.10000.Name=y" });
    expectEnvelope(x, "InvalidParameter", "Filters.10000");
  });

  it("invalid UTF-8 in a query value is InvalidParameter", async () => {
    const x = await d.tc3({ action: "DescribeDBInstances", method: "GET", query: "OrderBy=%FF%FE" });
    expectEnvelope(x, "InvalidParameter", "OrderBy=%FF%FE");
  });
});

describe("bodies", () => {
  const bad = [
    ["truncated JSON", '{"Limit": '],
    ["a JSON array", "[1,2]"],
    ["a JSON string", '"DescribeRegions"'],
    ["trailing garbage", "{} x"],
    ["duplicated keys", '{"Limit":1,"Limit":2}'],
    ["a NUL escape", '{"OrderBy":"a\\u0000b"}'],
    ["nesting 40 deep", '{"Deep":' + "[".repeat(40) + "]".repeat(40) + "}"],
  ];
  for (const [name, body] of bad) {
    it(`${name} is InvalidParameter`, async () => {
      expectEnvelope(await d.tc3({ action: "DescribeDBInstances", body }), "InvalidParameter", name);
    });
  }

  it("invalid UTF-8 inside a JSON string is InvalidParameter", async () => {
    const body = Buffer.concat([Buffer.from('{"OrderBy":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    expectEnvelope(await d.tc3({ action: "DescribeDBInstances", body }), "InvalidParameter", "invalid UTF-8");
  });

  it("nesting within the cap reaches validation (UnknownParameter, not a decode error)", async () => {
    const body = '{"Deep":' + '{"a":'.repeat(20) + "1" + "}".repeat(20) + "}";
    expectEnvelope(await d.tc3({ action: "DescribeDBInstances", body }), "UnknownParameter", "20 levels");
  });

  it("valid UTF-8 (Chinese, emoji) passes", async () => {
    const x = await d.tc3({ action: "DescribeDBInstances", params: { Filters: [{ Name: "db-instance-name", Values: ["数据库🐘"] }] } });
    const r = expectEnvelope(x, undefined, "UTF-8 values");
    assert.ok(!r.Error || !VALIDATION_CODES.has(r.Error.Code), `UTF-8 refused: ${JSON.stringify(r.Error)}`);
  });
});

describe("methods, paths and content types", () => {
  it("methods other than GET and POST are UnsupportedProtocol", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const x = await d.tc3({ action: "DescribeRegions", method });
      expectEnvelope(x, "UnsupportedProtocol", method);
    }
  });

  it("a POST content type the protocol does not define is UnsupportedProtocol", async () => {
    for (const contentType of ["text/plain", "application/xml", "application/octet-stream"]) {
      const x = await d.tc3({ action: "DescribeRegions", contentType, body: "{}" });
      expectEnvelope(x, "UnsupportedProtocol", contentType);
    }
  });

  it("a path other than / is not the API: HTTP 404 (or an UnsupportedProtocol envelope)", async () => {
    const req = d.buildTc3({ action: "DescribeRegions" }).toString("latin1").replace("POST / ", "POST /v2 ");
    const x = await d.send(Buffer.from(req, "latin1"));
    assert.ok(x.response, "POST /v2: no answer");
    if (x.response.status === 200) {
      expectEnvelope(x, "UnsupportedProtocol", "POST /v2");
    } else {
      assert.equal(x.response.status, 404, `POST /v2: ${x.response.status} ${x.response.body.toString().slice(0, 200)}`);
      assert.equal(x.response.Response, undefined, "POST /v2 must not run the API");
    }
  });

  it("application/json with a charset parameter is accepted (signed as sent)", async () => {
    const x = await d.tc3({ action: "DescribeRegions", contentType: "application/json; charset=utf-8" });
    expectEnvelope(x, null, "charset=utf-8");
  });

  it("TC3 multipart/form-data (SDK multipart option) carries parameters", async () => {
    const r = await c.request("DescribeClasses", classesQuery, { multipart: true });
    assert.ok(Array.isArray(r.ClassInfoSet), `multipart DescribeClasses: ${JSON.stringify(r)}`);
  });
});

describe("size limits", () => {
  it("TC3 POST over 10 MB through the SDK gets RequestSizeLimitExceeded (not a broken pipe)", async () => {
    // The SDK writes the whole body before reading: a server that answers
    // early must still drain (or linger) so that the client reads the answer.
    const e = await sdkError(c.request("DescribeRegions", { Foo: "a".repeat(10 * 1024 * 1024) }), "11 MB request");
    assert.equal(e.code, "RequestSizeLimitExceeded", `11 MB request: got ${e.code ?? "a transport error"}: ${e.message}`);
  });

  it("TC3 POST over 10 MB, headers first: RequestSizeLimitExceeded before the body is sent", async () => {
    const req = d.buildTc3({ action: "DescribeRegions", body: '{"Foo":"' + "a".repeat(10 * 1024 * 1024) + '"}' });
    const cut = req.indexOf("\r\n\r\n") + 4;
    const x = await d.send([req.subarray(0, cut), { delayMs: 300 }, req.subarray(cut)], { timeoutMs: 30000 });
    expectEnvelope(x, "RequestSizeLimitExceeded", "11 MB TC3 body announced by Content-Length");
  });

  it("TC3 POST over 10 MB without Content-Length (chunked) is RequestSizeLimitExceeded", async () => {
    const head = d
      .buildTc3({ action: "DescribeRegions", body: "{}", headers: [["Transfer-Encoding", "chunked"]] })
      .toString("latin1")
      .split("\r\n\r\n")[0];
    const chunk = Buffer.alloc(1024 * 1024, "a");
    const steps = [Buffer.from(head + "\r\n\r\n", "latin1")];
    for (let i = 0; i < 11; i++) steps.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]));
    steps.push(Buffer.from("0\r\n\r\n"));
    const x = await d.send(steps, { timeoutMs: 30000 });
    expectEnvelope(x, "RequestSizeLimitExceeded", "11 MB chunked TC3 body");
  });

  it("TC3 POST of 2 MB is not a size error (the 1 MB cap is v1's)", async () => {
    const body = JSON.stringify({ Foo: "a".repeat(2 * 1024 * 1024) });
    expectEnvelope(await d.tc3({ action: "DescribeRegions", body }), "UnknownParameter", "2 MB TC3 body");
  });

  it("v1 form POST over 1 MB is RequestSizeLimitExceeded", async () => {
    const x = await d.v1({ action: "DescribeRegions", method: "POST", params: { Foo: "a".repeat(1024 * 1024 + 10) } });
    expectEnvelope(x, "RequestSizeLimitExceeded", "1 MB v1 POST");
  });

  it("GET over 32 KB is RequestSizeLimitExceeded", async () => {
    const x = await d.tc3({ action: "DescribeRegions", method: "GET", params: { Foo: "a".repeat(33 * 1024) } });
    expectEnvelope(x, "RequestSizeLimitExceeded", "33 KB GET");
  });

  it("the daemon still answers after the size tests", async () => {
    assert.ok((await c.DescribeRegions({})).TotalCount > 0);
  });
});

describe("language", () => {
  it("X-TC-Language zh-CN gives Chinese messages for common codes", async () => {
    const zh = d.client({ language: "zh-CN" });
    const e1 = await expectCode(zh.request("DescribeUnicorns", {}), "InvalidAction", "zh-CN InvalidAction");
    assert.match(e1.message, CJK, `InvalidAction message should be Chinese: "${e1.message}"`);
    const e2 = await expectCode(zh.DescribeClasses({}), "MissingParameter", "zh-CN MissingParameter");
    assert.match(e2.message, CJK, `MissingParameter message should be Chinese: "${e2.message}"`);
    const e3 = await expectCode(
      d.client({ language: "zh-CN", secretKey: "wrong" }).DescribeRegions({}),
      "AuthFailure.SignatureFailure",
      "zh-CN SignatureFailure",
    );
    assert.match(e3.message, CJK, `SignatureFailure message should be Chinese: "${e3.message}"`);
  });

  it("v1 Language=zh-CN works the same", async () => {
    const e = await expectCode(
      d.client({ language: "zh-CN", signMethod: "HmacSHA1", reqMethod: "GET" }).request("DescribeUnicorns", {}),
      "InvalidAction",
      "v1 zh-CN",
    );
    assert.match(e.message, CJK, `v1 InvalidAction message should be Chinese: "${e.message}"`);
  });

  it("en-US and no language give English messages", async () => {
    for (const language of ["en-US", undefined]) {
      const e = await expectCode(d.client({ language }).request("DescribeUnicorns", {}), "InvalidAction", `${language}`);
      assert.doesNotMatch(e.message, CJK, `${language ?? "default"} message should be English: "${e.message}"`);
      assert.ok(e.message.length > 0, "a message is always present");
    }
  });
});

describe("every action of the API", () => {
  const spec = loadSpec();
  const skip = spec ? false : "reference api-spec.json not found (set PGFLEET_API_SPEC)";

  it("has 89 actions in the index", { skip }, () => {
    assert.equal(Object.keys(spec.actions).length, 89);
  });

  it("each answers: MissingParameter naming a required input, or (none required) success / UnsupportedOperation naming it", { skip }, async () => {
    const failures = [];
    for (const action of Object.keys(spec.actions).sort()) {
      const required = requiredInputs(spec, action);
      if (required.length === 0 && !action.startsWith("Describe")) continue; // {} may mean "do it"
      try {
        await c.request(action, {});
        if (required.length) failures.push(`${action} {}: succeeded without ${required.join(", ")}`);
      } catch (e) {
        if (!e.code) {
          failures.push(`${action} {}: no API answer (${e.message})${await crashNoteSoon()}`);
          if (d.exit) break; // it killed the daemon: the rest would only repeat that
        } else if (required.length) {
          if (e.code !== "MissingParameter" || !required.some((n) => e.message.includes(n))) {
            failures.push(`${action} {}: expected MissingParameter naming one of ${required}, got ${e.code}: ${e.message}`);
          }
        } else if (e.code !== "UnsupportedOperation" || !e.message.includes(action)) {
          if (e.code === "UnsupportedOperation" || VALIDATION_CODES.has(e.code) || !e.code) {
            failures.push(`${action} {}: got ${e.code}: ${e.message}`);
          }
        }
      }
    }
    assert.deepEqual(failures, [], failures.join("\n"));
  });

  it("read-only actions with schema-valid parameters get past validation; unimplemented ones name themselves", { skip }, async () => {
    const failures = [];
    let unsupported = 0;
    for (const action of Object.keys(spec.actions).sort()) {
      if (!/^(Describe|InquiryPrice)/.test(action)) continue;
      const params = minimalParams(spec, action);
      try {
        await c.request(action, params);
      } catch (e) {
        if (!e.code) {
          failures.push(`${action} ${JSON.stringify(params)}: no API answer (${e.message})${await crashNoteSoon()}`);
          if (d.exit) break;
        } else if (VALIDATION_CODES.has(e.code) || e.code.startsWith("AuthFailure") || e.code === "InvalidAction") {
          failures.push(`${action} ${JSON.stringify(params)}: ${e.code}: ${e.message}`);
        } else if (e.code === "UnsupportedOperation") {
          unsupported++;
          if (!e.message.includes(action)) failures.push(`${action}: UnsupportedOperation message does not name it: ${e.message}`);
        }
      }
    }
    assert.deepEqual(failures, [], failures.join("\n"));
    assert.ok(unsupported >= 0);
  });

  it("an unimplemented action answers UnsupportedOperation naming it (SDK-only actions are InvalidAction or Unsupported)", async () => {
    // CreateServerlessDBInstance is in the seed but not in the typed SDK client.
    const e = await sdkError(
      c.request("CreateServerlessDBInstance", { Zone: classesQuery.Zone, DBInstanceName: "x", DBVersion: "15", DBCharset: "UTF8" }),
    );
    if (e.code === "UnsupportedOperation") {
      assert.ok(e.message.includes("CreateServerlessDBInstance"), `message should name the action: ${e.message}`);
    } else {
      assert.ok(!VALIDATION_CODES.has(e.code) && e.code !== "InvalidAction", `unexpected ${e.code}: ${e.message}`);
    }
  });
});

describe("rate limits", () => {
  // DescribeDBInstanceHAConfig: 20 requests per second per tenant (seed).
  const burst = (n, creds) =>
    Promise.all(
      Array.from({ length: n }, () =>
        d.tc3({ action: "DescribeDBInstanceHAConfig", params: { DBInstanceId: "postgres-ratelimt" }, ...creds }),
      ),
    );
  const codeOf = (x) => x.response?.Response?.Error?.Code ?? (x.response?.Response ? "OK" : `no answer (${x.error})`);

  it("a burst over the per-action limit gets RequestLimitExceeded naming the action", async () => {
    const t0 = Date.now();
    const xs = await burst(80);
    const secs = (Date.now() - t0) / 1000;
    const codes = xs.map(codeOf);
    const limited = codes.filter((k) => k === "RequestLimitExceeded").length;
    const admitted = codes.filter((k) => k !== "RequestLimitExceeded").length;
    assert.ok(codes.every((k) => !k.startsWith("no answer")), `every request answered: ${codes}`);
    assert.ok(limited > 0, `80 requests in ${secs}s to a 20/s action: none limited (${codes})`);
    assert.ok(admitted >= 1, "the first requests are admitted");
    assert.ok(admitted <= 20 * (Math.ceil(secs) + 1), `admitted ${admitted} in ${secs}s, limit 20/s`);
    const one = xs.find((x) => codeOf(x) === "RequestLimitExceeded");
    expectEnvelope(one, "RequestLimitExceeded", "limited request");
    assert.ok(one.response.Response.Error.Message.includes("DescribeDBInstanceHAConfig"), "the message names the action");
  });

  it("the limit is per action: other actions of the same tenant still pass", async () => {
    assert.ok((await c.DescribeRegions({})).TotalCount > 0);
  });

  it("the limit is per tenant: another tenant is not limited", async () => {
    const other = await d.tenantCreate("e2e-ratelimit");
    await burst(40); // keep the root tenant over its limit
    const x = await d.tc3({
      action: "DescribeDBInstanceHAConfig",
      params: { DBInstanceId: "postgres-ratelimt" },
      secretId: other.secretId,
      secretKey: other.secretKey,
    });
    const r = expectEnvelope(x, undefined, "other tenant");
    assert.notEqual(r.Error?.Code, "RequestLimitExceeded", "another tenant must not share the root's budget");
  });

  it("after a second the tenant is admitted again", async () => {
    await new Promise((r) => setTimeout(r, 1200));
    const x = await burst(1);
    assert.notEqual(codeOf(x[0]), "RequestLimitExceeded", "admitted again after 1.2 s");
  });
});

describe("shutdown", () => {
  it("SIGTERM: exit code 0, no sanitizer report; no crash during the file", async () => {
    await d.stop();
    assert.deepEqual(crashes, [], `pgfleetd died during this file (and was restarted):${crashes.join("\n")}`);
  });
});
