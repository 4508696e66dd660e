// 00-harness: the raw signers of lib/http.mjs are right before any test
// relies on them - checked against the vectors of reference/signature.md
// and against the official SDK's own signer. No daemon needed.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";

import {
  exchange,
  flattenParams,
  encodeRfc3986,
  parseHttpResponse,
  tc3Authorization,
  v1Signature,
  v1StringToSign,
} from "./lib/http.mjs";

const require = createRequire(import.meta.url);
const SdkSign = require("tencentcloud-sdk-nodejs/tencentcloud/common/sign.js").default;

const MASKED_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
const MASKED_KEY = "Gu5t9xGARNpq86cd98joQYCN3*******";

describe("TC3-HMAC-SHA256 signer", () => {
  it("reproduces vector V3-A (POST, worked example)", () => {
    const p = tc3Authorization({
      secretId: MASKED_ID,
      secretKey: MASKED_KEY,
      method: "POST",
      host: "cvm.tencentcloudapi.com",
      contentType: "application/json; charset=utf-8",
      payload: '{"Limit": 1, "Filters": [{"Values": ["unnamed"], "Name": "instance-name"}]}',
      timestamp: 1551113065,
      service: "cvm",
      parts: true,
    });
    assert.equal(p.signature, "c492e8e41437e97a620b728c301bb8d17e7dc0c17eeabce80c20cd70fc3a78ff");
    assert.equal(
      p.authorization,
      `TC3-HMAC-SHA256 Credential=${MASKED_ID}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, ` +
        "Signature=c492e8e41437e97a620b728c301bb8d17e7dc0c17eeabce80c20cd70fc3a78ff",
    );
  });

  it("reproduces vector V3-B (GET with a query)", () => {
    const p = tc3Authorization({
      secretId: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
      secretKey: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
      method: "GET",
      host: "cvm.tencentcloudapi.com",
      query: "Limit=10&Offset=0",
      contentType: "application/x-www-form-urlencoded",
      payload: "",
      timestamp: 1539084154,
      service: "cvm",
      parts: true,
    });
    assert.equal(p.signature, "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474");
  });

  it("agrees with the official SDK's signer (host without port, service from the endpoint)", () => {
    const ts = 1700000000;
    const body = { Zone: "ap-guangzhou-3", DBEngine: "postgresql", DBMajorVersion: "15" };
    const sdk = SdkSign.sign3({
      method: "POST",
      url: "http://127.0.0.1:9000/",
      payload: body,
      timestamp: ts,
      service: "127",
      secretId: "id",
      secretKey: "key",
      headers: { "Content-Type": "application/json" },
    });
    const mine = tc3Authorization({
      secretId: "id",
      secretKey: "key",
      host: "127.0.0.1",
      payload: JSON.stringify(body),
      timestamp: ts,
      service: "127",
    });
    assert.equal(mine, sdk);
  });
});

describe("v1 signer", () => {
  const pairs = [
    ["Action", "DescribeInstances"],
    ["InstanceIds.0", "ins-09dx96dg"],
    ["Limit", "20"],
    ["Nonce", "11886"],
    ["Offset", "0"],
    ["Region", "ap-guangzhou"],
    ["SecretId", MASKED_ID],
    ["Timestamp", "1465185768"],
    ["Version", "2017-03-12"],
  ];

  it("reproduces vector V1-A (HmacSHA1)", () => {
    const s = v1StringToSign("GET", "cvm.tencentcloudapi.com", [...pairs].reverse());
    assert.equal(
      s,
      "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886" +
        `&Offset=0&Region=ap-guangzhou&SecretId=${MASKED_ID}&Timestamp=1465185768&Version=2017-03-12`,
    );
    assert.equal(v1Signature(MASKED_KEY, s, "HmacSHA1"), "zmmjn35mikh6pM3V7sUEuX4wyYM=");
    assert.equal(encodeRfc3986("zmmjn35mikh6pM3V7sUEuX4wyYM="), "zmmjn35mikh6pM3V7sUEuX4wyYM%3D");
  });

  it("reproduces the HmacSHA256 vector (SignatureMethod among the signed pairs)", () => {
    const s = v1StringToSign("GET", "cvm.tencentcloudapi.com", [...pairs, ["SignatureMethod", "HmacSHA256"]]);
    assert.equal(v1Signature(MASKED_KEY, s, "HmacSHA256"), "czb75sAwt2P15FCqA4ugj88/aUVor/dVp3fCS/7mQiY=");
  });

  it("sorts names in byte order", () => {
    const s = v1StringToSign("GET", "h", [
      ["InstanceIds.2", "b"],
      ["InstanceIds.12", "a"],
    ]);
    assert.equal(s, "GETh/?InstanceIds.12=a&InstanceIds.2=b");
  });
});

describe("helpers", () => {
  it("flattens nested parameters the way the SDK does", () => {
    assert.deepEqual(flattenParams({ Filters: [{ Name: "n", Values: ["a", "b"] }], Limit: 5, X: null, B: true }), [
      ["Filters.0.Name", "n"],
      ["Filters.0.Values.0", "a"],
      ["Filters.0.Values.1", "b"],
      ["Limit", "5"],
      ["B", "true"],
    ]);
  });

  it("parses content-length and chunked responses, pipelined", () => {
    const raw = Buffer.from(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" +
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n",
    );
    const a = parseHttpResponse(raw);
    assert.equal(a.body.toString(), "{}");
    const b = parseHttpResponse(raw, a.end);
    assert.equal(b.body.toString(), '{"a":1}');
    assert.equal(b.end, raw.length);
    assert.equal(parseHttpResponse(raw.subarray(0, raw.length - 3), a.end), null);
  });

  it("exchange() reports a refused connection instead of hanging", async () => {
    const x = await exchange(1, Buffer.from("GET / HTTP/1.1\r\n\r\n"), { timeoutMs: 3000 });
    assert.equal(x.response, undefined);
    assert.ok(x.error, "an error code is reported");
  });
});
