// 04-gateway-robustness: the gateway under hostile or clumsy clients.
// Clients that send part of a request and stall are disconnected after the
// configured timeout (http_timeout_s, 2 s here) without slowing anyone else;
// hundreds of concurrent connections are all answered; pipelined and
// HTTP/1.0 requests work; garbage, malformed framing, oversized headers and
// abrupt disconnects leave the daemon answering and, at the end, exiting 0
// with no sanitizer report.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";

import { connect, expectEnvelope, replaceIfDead, startDaemon, waitClosed } from "./lib/daemon.mjs";

const TIMEOUT_S = 2;
const CLOSE_GRACE_MS = (TIMEOUT_S + 4) * 1000;

let d;
let c;
const crashes = [];

async function setup() {
  // Rate limits off: this file is about connections, not the limiter.
  d = await startDaemon({ config: { http_timeout_s: TIMEOUT_S, rate_limit: 0 } });
  c = d.client();
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

/** The daemon answers a normal signed request (fresh connection). */
async function stillAnswers(what) {
  const x = await d.tc3({ action: "DescribeRegions" }, { timeoutMs: 5000 });
  expectEnvelope(x, null, `after ${what}: a normal request`);
}

/** Time `n` sequential SDK calls; returns the slowest in ms. */
async function slowestOf(n) {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const t0 = Date.now();
    await c.DescribeRegions({});
    worst = Math.max(worst, Date.now() - t0);
  }
  return worst;
}

describe("slow clients", () => {
  it("clients stalled in headers, in the body and idle are closed after the timeout; others are served meanwhile", async () => {
    const partialHeaders = await connect(d.port);
    partialHeaders.write(`POST / HTTP/1.1\r\nHost: ${d.endpoint}\r\nContent-Type: application/json\r\n`);
    const partialBody = await connect(d.port);
    const head = d.buildTc3({ action: "DescribeRegions", body: "{}" }).toString("latin1").split("\r\n\r\n")[0];
    partialBody.write(head.replace(/Content-Length: \d+/, "Content-Length: 1000") + '\r\n\r\n{"Fo');
    const idle = await connect(d.port);
    const crowd = [];
    for (let i = 0; i < 50; i++) {
      const s = await connect(d.port);
      s.write("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      crowd.push(s);
    }
    const closing = [partialHeaders, partialBody, idle, ...crowd].map((s) => waitClosed(s, CLOSE_GRACE_MS));

    const worst = await slowestOf(20);
    assert.ok(worst < 1000, `with 53 stalled connections, a request took ${worst} ms`);

    const [h, b, i, ...rest] = await Promise.all(closing);
    assert.notEqual(h, null, `a client stalled in its headers was not closed within ${CLOSE_GRACE_MS} ms`);
    assert.notEqual(b, null, `a client stalled in its body was not closed within ${CLOSE_GRACE_MS} ms`);
    assert.notEqual(i, null, `an idle connection was not closed within ${CLOSE_GRACE_MS} ms`);
    assert.equal(rest.filter((x) => x === null).length, 0, "every stalled client of the crowd is closed");
    assert.ok(h >= (TIMEOUT_S - 1) * 1000, `closed after ${h} ms: too early for a ${TIMEOUT_S} s timeout`);
    await stillAnswers("slow clients");
  });

  it("an idle keep-alive connection after a response is closed after the timeout", async () => {
    const s = await connect(d.port);
    const got = [];
    s.on("data", (b) => got.push(b));
    s.write(d.buildTc3({ action: "DescribeRegions" }));
    const t = await waitClosed(s, CLOSE_GRACE_MS);
    assert.ok(Buffer.concat(got).toString("latin1").startsWith("HTTP/1.1 200"), "the request was answered first");
    assert.notEqual(t, null, "the kept-alive connection is closed once idle for the timeout");
  });
});

describe("concurrency", () => {
  it("200 simultaneous connections are all answered", async () => {
    const reqs = Array.from({ length: 200 }, (_, i) =>
      d.tc3({ action: i % 2 ? "DescribeRegions" : "DescribeDBVersions" }, { timeoutMs: 20000 }),
    );
    const xs = await Promise.all(reqs);
    const bad = xs.map((x, i) => [i, x]).filter(([, x]) => !x.response?.Response || x.response.Response.Error);
    assert.equal(
      bad.length,
      0,
      `${bad.length}/200 not answered with success, e.g. ${JSON.stringify(bad.slice(0, 3).map(([i, x]) => [i, x.error, x.response?.Response?.Error]))}`,
    );
    assert.equal(new Set(xs.map((x) => x.response.Response.RequestId)).size, 200, "200 distinct RequestIds");
  });

  it("600 SDK calls over 48 keep-alive connections all succeed", async () => {
    let next = 0;
    let ok = 0;
    const errors = [];
    const worker = async () => {
      while (next < 600) {
        const i = next++;
        try {
          const r = await (i % 3 === 0 ? c.DescribeZones({}) : i % 3 === 1 ? c.DescribeRegions({}) : c.DescribeDBVersions({}));
          if (r.RequestId) ok++;
        } catch (e) {
          errors.push(`${e.code}: ${e.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 48 }, worker));
    assert.equal(ok, 600, `failures: ${errors.slice(0, 5).join("; ")}`);
  });

  it("pipelined requests on one connection are answered in order", async () => {
    const a = d.buildTc3({ action: "DescribeRegions" });
    const b = d.buildTc3({ action: "NoSuchActionHere" });
    const e = d.buildTc3({ action: "DescribeDBVersions" });
    const x = await d.send(Buffer.concat([a, b, e]), { count: 3 });
    assert.equal(x.responses.length, 3, `3 responses expected, got ${x.responses.length}`);
    assert.ok(x.responses[0].Response.RegionSet, "first: DescribeRegions");
    assert.equal(x.responses[1].Response.Error?.Code, "InvalidAction", "second: InvalidAction");
    assert.ok(x.responses[2].Response.VersionSet, "third: DescribeDBVersions");
  });

  it("HTTP/1.0 and Expect: 100-continue requests work", async () => {
    const r10 = Buffer.from(d.buildTc3({ action: "DescribeRegions" }).toString("latin1").replace(" HTTP/1.1\r\n", " HTTP/1.0\r\n"), "latin1");
    expectEnvelope(await d.send(r10), null, "HTTP/1.0");
    const full = d.buildTc3({ action: "DescribeRegions", body: "{}" }).toString("latin1");
    const [h, body] = full.split("\r\n\r\n");
    const x = await d.send([Buffer.from(`${h}\r\nExpect: 100-continue\r\n\r\n`, "latin1"), { delayMs: 200 }, Buffer.from(body)], { count: 2 });
    const final = x.responses.find((r) => r.status !== 100);
    assert.ok(final, `no final response to Expect: 100-continue: ${x.raw.toString("latin1").slice(0, 200)}`);
    assert.equal(final.status, 200);
    assert.ok(final.Response?.RegionSet, `Expect: 100-continue answered ${final.body.toString().slice(0, 200)}`);
  });

  it("a body sent in tiny pieces is reassembled", async () => {
    const req = d.buildTc3({ action: "DescribeDBInstances", params: { Limit: 5, Offset: 0, OrderByType: "asc" } });
    const steps = [];
    for (let i = 0; i < req.length; i += 7) steps.push(req.subarray(i, i + 7), { delayMs: 1 });
    const x = await d.send(steps);
    const r = expectEnvelope(x, undefined, "byte-dribbled request");
    assert.ok(!r.Error || !/^(AuthFailure|InvalidParameter|MissingParameter)/.test(r.Error.Code), `got ${JSON.stringify(r.Error)}`);
  });
});

describe("garbage and malformed framing", () => {
  const host = () => `Host: ${d.endpoint}\r\n`;
  const cases = [
    ["random binary", () => crypto.randomBytes(4096)],
    ["a TLS ClientHello", () => Buffer.from("16030100a5010000a103035f", "hex")],
    ["NUL bytes", () => Buffer.alloc(1024)],
    ["an unknown HTTP version", () => Buffer.from(`GET / HTTP/9.9\r\n${host()}\r\n`)],
    ["a header line without a colon", () => Buffer.from(`GET / HTTP/1.1\r\n${host()}NoColonHere\r\n\r\n`)],
    ["a request line only spaces", () => Buffer.from("     \r\n\r\n")],
    ["a 300 KB header", () => Buffer.from(`GET / HTTP/1.1\r\n${host()}X-Big: ${"a".repeat(300 * 1024)}\r\n\r\n`)],
    ["a 300 KB URL", () => Buffer.from(`GET /?a=${"b".repeat(300 * 1024)} HTTP/1.1\r\n${host()}\r\n`)],
    ["2000 headers", () => Buffer.from(`GET / HTTP/1.1\r\n${host()}${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v\r\n`).join("")}\r\n`)],
    ["a negative Content-Length", () => Buffer.from(`POST / HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}`)],
    ["a non-numeric Content-Length", () => Buffer.from(`POST / HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`)],
    ["a huge Content-Length", () => Buffer.from(`POST / HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}`)],
    [
      "Content-Length and Transfer-Encoding together",
      () => Buffer.from(`POST / HTTP/1.1\r\n${host()}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`),
    ],
    ["a bad chunk size", () => Buffer.from(`POST / HTTP/1.1\r\n${host()}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`)],
    ["an absolute-form target", () => Buffer.from(`GET http://${d.endpoint}/?Action=DescribeRegions HTTP/1.1\r\n${host()}\r\n`)],
    ["CONNECT", () => Buffer.from(`CONNECT 127.0.0.1:22 HTTP/1.1\r\n${host()}\r\n`)],
  ];

  for (const [name, make] of cases) {
    it(`${name}: answered or closed, never a hang; the daemon keeps answering`, async () => {
      const x = await d.send(make(), { timeoutMs: CLOSE_GRACE_MS });
      assert.ok(
        x.response || x.closed,
        `${name}: neither answered nor closed within ${CLOSE_GRACE_MS} ms (got ${x.raw.length} bytes)`,
      );
      if (x.response && x.response.status === 200) {
        // An API answer must be the envelope.
        assert.ok(x.response.Response?.RequestId, `${name}: HTTP 200 without the envelope: ${x.response.body.toString().slice(0, 200)}`);
      }
      await stillAnswers(name);
    });
  }

  it("a signed request after 100 filler headers is answered with an envelope", async () => {
    const filler = Array.from({ length: 100 }, (_, i) => [`X-Filler-${i}`, "v"]);
    const req = d.buildTc3({ action: "DescribeRegions" }).toString("latin1");
    const [first, ...rest] = req.split("\r\n");
    const bytes = Buffer.from([first, ...filler.map(([n, v]) => `${n}: ${v}`), ...rest].join("\r\n"), "latin1");
    expectEnvelope(await d.send(bytes), undefined, "request with 100 extra headers");
  });

  it("200 connections dropped mid-request leave the daemon healthy", async () => {
    const req = d.buildTc3({ action: "DescribeRegions", body: JSON.stringify({ Foo: "x".repeat(5000) }) });
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const s = await connect(d.port);
        s.on("error", () => {});
        s.write(req.subarray(0, 1 + ((i * 97) % (req.length - 1))));
        await new Promise((r) => setTimeout(r, i % 5));
        if (i % 2) s.resetAndDestroy();
        else s.destroy();
      }),
    );
    await stillAnswers("abrupt disconnects");
    assert.ok(!d.exit, "the daemon is still running");
  });
});

describe("shutdown", () => {
  it("SIGTERM with connections still open: exit code 0, no sanitizer report; no crash during the file", async () => {
    const open = await connect(d.port);
    open.on("error", () => {});
    open.write(`POST / HTTP/1.1\r\nHost: ${d.endpoint}\r\n`);
    const t0 = Date.now();
    await d.stop();
    assert.ok(Date.now() - t0 < 10000, `shutdown took ${Date.now() - t0} ms`);
    open.destroy();
    assert.deepEqual(crashes, [], `pgfleetd died during this file (and was restarted):${crashes.join("\n")}`);
  });
});
