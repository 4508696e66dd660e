// 01-gateway-auth: who may call. Every signature method the official SDK
// offers (TC3 over POST and GET, HmacSHA256 and HmacSHA1 over GET and POST)
// works with the root credentials written at first start; wrong keys,
// unknown SecretIds, expired timestamps, replayed nonces and mangled
// Authorization headers are refused with the documented codes; a tenant made
// with `pgfleetd tenant-create` signs with its own key; credentials survive a
// restart.

import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, beforeEach, describe, it } from "node:test";

import { expectCode, expectEnvelope, nowSeconds, replaceIfDead, startDaemon, UUID_RE } from "./lib/daemon.mjs";

const SIGN_VARIANTS = [
  { signMethod: "TC3-HMAC-SHA256", reqMethod: "POST" },
  { signMethod: "TC3-HMAC-SHA256", reqMethod: "GET" },
  { signMethod: "HmacSHA256", reqMethod: "GET" },
  { signMethod: "HmacSHA256", reqMethod: "POST" },
  { signMethod: "HmacSHA1", reqMethod: "GET" },
  { signMethod: "HmacSHA1", reqMethod: "POST" },
];
const label = (v) => `${v.signMethod} ${v.reqMethod}`;

let d;
let classesQuery; // valid DescribeClasses parameters, from the catalog
const crashes = [];

async function setup() {
  d = await startDaemon();
  const c = d.client();
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

describe("root credentials", () => {
  it("credentials.json holds a secretId/secretKey pair and has mode 0600", () => {
    const st = fs.statSync(d.credentialsPath);
    assert.equal((st.mode & 0o777).toString(8), "600", "credentials.json must be readable by its owner only");
    const creds = JSON.parse(fs.readFileSync(d.credentialsPath, "utf8"));
    assert.equal(typeof creds.secretId, "string");
    assert.equal(typeof creds.secretKey, "string");
    assert.ok(creds.secretId.length >= 16, `secretId too short: ${creds.secretId}`);
    assert.ok(creds.secretKey.length >= 24, "secretKey too short to be a secret");
    assert.notEqual(creds.secretId, creds.secretKey);
  });

  it("the start-up log says where the credentials were written", () => {
    assert.ok(
      d.stderr.includes(d.credentialsPath),
      `stderr should name ${d.credentialsPath}:\n${d.logTail(20)}`,
    );
  });
});

describe("every SDK signature method", () => {
  for (const v of SIGN_VARIANTS) {
    it(`${label(v)}: DescribeRegions succeeds`, async () => {
      const r = await d.client(v).DescribeRegions({});
      assert.ok(r.TotalCount > 0 && Array.isArray(r.RegionSet), `unexpected response ${JSON.stringify(r)}`);
      assert.match(r.RequestId, UUID_RE);
    });

    it(`${label(v)}: DescribeClasses with business parameters succeeds`, async () => {
      const r = await d.client(v).DescribeClasses(classesQuery);
      assert.ok(Array.isArray(r.ClassInfoSet), `unexpected response ${JSON.stringify(r)}`);
    });

    it(`${label(v)}: a wrong secret key is AuthFailure.SignatureFailure`, async () => {
      const c = d.client({ ...v, secretKey: d.creds.secretKey.slice(0, -1) + (d.creds.secretKey.endsWith("A") ? "B" : "A") });
      const e = await expectCode(c.DescribeRegions({}), "AuthFailure.SignatureFailure", label(v));
      assert.match(e.requestId, UUID_RE, "the SDK exception carries the RequestId");
    });

    it(`${label(v)}: an unknown SecretId is AuthFailure.SecretIdNotFound`, async () => {
      const c = d.client({ ...v, secretId: "AKIDpgfleetE2EdoesNotExist0000000" });
      await expectCode(c.DescribeRegions({}), "AuthFailure.SecretIdNotFound", label(v));
    });
  }
});

describe("timestamps", () => {
  it("TC3 five minutes and more in the past is AuthFailure.SignatureExpire", async () => {
    const x = await d.tc3({ action: "DescribeRegions", timestamp: nowSeconds() - 400 });
    expectEnvelope(x, "AuthFailure.SignatureExpire", "TC3, timestamp now-400s");
  });

  it("TC3 five minutes and more in the future is AuthFailure.SignatureExpire", async () => {
    const x = await d.tc3({ action: "DescribeRegions", timestamp: nowSeconds() + 400 });
    expectEnvelope(x, "AuthFailure.SignatureExpire", "TC3, timestamp now+400s");
  });

  it("TC3 within the window (now-200s) is accepted", async () => {
    const x = await d.tc3({ action: "DescribeRegions", timestamp: nowSeconds() - 200 });
    expectEnvelope(x, null, "TC3, timestamp now-200s");
  });

  it("v1 outside the window is AuthFailure.SignatureExpire", async () => {
    const x = await d.v1({ action: "DescribeRegions", timestamp: nowSeconds() - 3600 });
    expectEnvelope(x, "AuthFailure.SignatureExpire", "v1 GET, timestamp now-1h");
  });

  it("a TC3 credential scope date that is not the timestamp's UTC date is refused", async () => {
    const x = await d.tc3({ action: "DescribeRegions", date: "2001-01-01" });
    const r = expectEnvelope(x, undefined, "TC3 with scope date 2001-01-01");
    assert.ok(r.Error, "must fail");
    assert.ok(
      ["AuthFailure.InvalidAuthorization", "AuthFailure.SignatureFailure"].includes(r.Error.Code),
      `expected AuthFailure.InvalidAuthorization, got ${r.Error.Code}`,
    );
  });
});

describe("v1 nonces", () => {
  it("a replayed v1 request (same Nonce, same Timestamp) is AuthFailure.SignatureFailure", async () => {
    const req = d.buildV1({ action: "DescribeRegions", nonce: 424242 });
    expectEnvelope(await d.send(req), null, "first use of the nonce");
    expectEnvelope(await d.send(req), "AuthFailure.SignatureFailure", "replay of the same request");
  });

  it("a replayed v1 form POST is refused too", async () => {
    const req = d.buildV1({ action: "DescribeZones", method: "POST", signatureMethod: "HmacSHA1", nonce: 777001 });
    expectEnvelope(await d.send(req), null, "first use of the nonce");
    expectEnvelope(await d.send(req), "AuthFailure.SignatureFailure", "replay of the same POST");
  });

  it("distinct nonces in the same second are all accepted", async () => {
    const ts = nowSeconds();
    for (const nonce of [9000101, 9000102, 9000103]) {
      expectEnvelope(await d.v1({ action: "DescribeRegions", nonce, timestamp: ts }), null, `nonce ${nonce}`);
    }
  });
});

describe("signature tampering", () => {
  it("TC3: a body other than the one signed is AuthFailure.SignatureFailure", async () => {
    const x = await d.tc3({
      action: "DescribeClasses",
      body: JSON.stringify({ ...classesQuery, DBMajorVersion: "9" }),
      signBody: JSON.stringify(classesQuery),
    });
    expectEnvelope(x, "AuthFailure.SignatureFailure", "TC3 body changed after signing");
  });

  it("TC3: a Host other than the one signed is AuthFailure.SignatureFailure", async () => {
    const req = d.buildTc3({ action: "DescribeRegions", host: "127.0.0.2:1" }).toString("latin1");
    const x = await d.send(Buffer.from(req.replace("Host: 127.0.0.2:1", `Host: ${d.endpoint}`), "latin1"));
    expectEnvelope(x, "AuthFailure.SignatureFailure", "TC3 signed for another host");
  });

  it("v1: a parameter changed after signing is AuthFailure.SignatureFailure", async () => {
    const x = await d.v1({
      action: "DescribeClasses",
      params: classesQuery,
      tamper: (pairs) => pairs.map(([k, v]) => [k, k === "DBMajorVersion" ? "9" : v]),
    });
    expectEnvelope(x, "AuthFailure.SignatureFailure", "v1 parameter changed after signing");
  });

  it("v1: an HmacSHA256 signature sent without SignatureMethod is checked as HmacSHA1 and fails", async () => {
    const x = await d.v1({ action: "DescribeRegions", signatureMethod: "HmacSHA256", sendMethod: false });
    expectEnvelope(x, "AuthFailure.SignatureFailure", "v1 without SignatureMethod, signed with SHA256");
  });

  it("v1: HmacSHA1 without SignatureMethod is the default and works", async () => {
    const x = await d.v1({ action: "DescribeRegions", signatureMethod: "HmacSHA1", sendMethod: false });
    expectEnvelope(x, null, "v1 HmacSHA1 without SignatureMethod");
  });
});

describe("mangled Authorization headers", () => {
  const cases = [
    ["missing", null],
    ["empty", ""],
    ["another scheme", "Bearer abcdef"],
    ["algorithm only", "TC3-HMAC-SHA256"],
    ["no Signature", "TC3-HMAC-SHA256 Credential=AKIDx/2024-01-01/postgres/tc3_request, SignedHeaders=content-type;host"],
    ["bad scope", "TC3-HMAC-SHA256 Credential=AKIDx, SignedHeaders=content-type;host, Signature=00"],
    ["non-hex signature", "TC3-HMAC-SHA256 Credential=AKIDx/2024-01-01/postgres/tc3_request, SignedHeaders=content-type;host, Signature=zz"],
    ["huge", "TC3-HMAC-SHA256 Credential=" + "A".repeat(20000) + "/2024-01-01/postgres/tc3_request, SignedHeaders=content-type;host, Signature=00"],
    ["control bytes", "TC3-HMAC-SHA256 Credential=\u0001\u0002/x/y/z, SignedHeaders=;;;, Signature="],
  ];
  for (const [name, value] of cases) {
    it(`${name}: answered with an AuthFailure code, HTTP 200`, async () => {
      const x = await d.tc3({ action: "DescribeRegions", authorization: value });
      const r = expectEnvelope(x, undefined, `Authorization ${name}`);
      assert.ok(r.Error, `Authorization ${name} must be refused`);
      assert.match(r.Error.Code, /^AuthFailure\./, `Authorization ${name}: got ${r.Error.Code}`);
    });
  }

  it("a missing or malformed TC3 Authorization is AuthFailure.InvalidAuthorization", async () => {
    for (const value of [null, "Bearer abcdef", "TC3-HMAC-SHA256"]) {
      const x = await d.tc3({ action: "DescribeRegions", authorization: value });
      expectEnvelope(x, "AuthFailure.InvalidAuthorization", `Authorization ${JSON.stringify(value)}`);
    }
  });

  it("a TC3 Authorization naming an unknown SecretId is AuthFailure.SecretIdNotFound", async () => {
    const x = await d.tc3({ action: "DescribeRegions", secretId: "AKIDnobody", secretKey: "x" });
    expectEnvelope(x, "AuthFailure.SecretIdNotFound", "unknown SecretId in Credential");
  });
});

describe("tenants", () => {
  let second;

  it("tenant-create prints new credentials while the daemon runs", async () => {
    second = await d.tenantCreate("e2e-second");
    assert.notEqual(second.secretId, d.creds.secretId, "a new tenant gets a new SecretId");
    assert.notEqual(second.secretKey, d.creds.secretKey, "a new tenant gets a new SecretKey");
  });

  it("the new tenant calls the API with its own key, every sign method", async () => {
    for (const v of SIGN_VARIANTS) {
      const r = await d.client({ ...v, ...second }).DescribeRegions({});
      assert.ok(r.TotalCount > 0, `${label(v)} as the second tenant`);
    }
  });

  it("the new tenant's SecretId with the root key is AuthFailure.SignatureFailure", async () => {
    const c = d.client({ secretId: second.secretId, secretKey: d.creds.secretKey });
    await expectCode(c.DescribeRegions({}), "AuthFailure.SignatureFailure", "second id + root key");
  });

  it("after a clean restart on the same data dir, the same credentials still work", async () => {
    const dataDir = d.dataDir;
    const before = fs.readFileSync(d.credentialsPath, "utf8");
    await d.stop();
    d = await startDaemon({ dataDir });
    assert.equal(fs.readFileSync(d.credentialsPath, "utf8"), before, "credentials.json is not rewritten");
    assert.ok((await d.client().DescribeRegions({})).TotalCount > 0, "root tenant after restart");
    assert.ok((await d.client(second).DescribeRegions({})).TotalCount > 0, "second tenant after restart");
  });
});

describe("shutdown", () => {
  it("SIGTERM: exit code 0, no sanitizer report; no crash during the file", async () => {
    await d.stop();
    assert.deepEqual(crashes, [], `pgfleetd died during this file (and was restarted):${crashes.join("\n")}`);
  });
});
