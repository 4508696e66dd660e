// http.mjs - raw, hand-signed HTTP for the cases the official SDK cannot
// produce: wrong content types, duplicated or gapped parameters, huge or
// deeply nested bodies, invalid UTF-8, mangled Authorization headers,
// timestamps outside the window, replayed nonces, garbage bytes, pipelining.
//
// Everything goes over a plain TCP socket (node:net) so that nothing between
// the test and the daemon rewrites the request, and so that a server that
// answers early and closes (size limits) is still observed: the response is
// parsed from whatever bytes arrived, write errors are ignored.
//
// Signing follows /work/shared/reference/signature.md (TC3-HMAC-SHA256 and
// the v1 HmacSHA1/HmacSHA256 scheme) and is self-checked against its vectors
// in 00-harness.test.mjs.

import crypto from "node:crypto";
import net from "node:net";

export const API_VERSION = "2017-03-12";
export const SERVICE = "postgres";

/** RFC 3986 percent-encoding with upper-case hex (what the protocol asks). */
export function encodeRfc3986(s) {
  return encodeURIComponent(String(s)).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** Flatten nested params into [name, value] pairs as v1 and TC3 GET send them
 *  (`Filters.0.Values.0=x`). Booleans become "true"/"false". */
export function flattenParams(params, prefix = "") {
  const out = [];
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === null || v === undefined) continue;
    const name = prefix + k;
    if (Array.isArray(v) || typeof v === "object") {
      out.push(...flattenParams(v, name + "."));
    } else {
      out.push([name, String(v)]);
    }
  }
  return out;
}

/** Query string from pairs (values and names RFC 3986 encoded, order kept). */
export function encodePairs(pairs) {
  return pairs.map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`).join("&");
}

export function sha256Hex(data) {
  return crypto.createHash("sha256").update(data).digest("hex");
}

function hmac(key, msg, enc) {
  return crypto.createHmac("sha256", key).update(msg).digest(enc);
}

/** UTC date YYYY-MM-DD of a UNIX timestamp (seconds). */
export function utcDate(timestamp) {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

/**
 * TC3-HMAC-SHA256 Authorization header over content-type and host.
 * `payload` is the exact body (string or Buffer; "" for GET), `query` the raw
 * query string as sent ("" for POST). Returns the header value; with
 * `parts: true` returns {authorization, canonicalRequest, stringToSign, signature}.
 */
export function tc3Authorization({
  secretId,
  secretKey,
  method = "POST",
  host,
  query = "",
  contentType = "application/json",
  payload = "",
  timestamp,
  service = SERVICE,
  date = utcDate(timestamp),
  parts = false,
}) {
  const canonicalHeaders =
    `content-type:${contentType.trim().toLowerCase()}\n` + `host:${host.trim().toLowerCase()}\n`;
  const signedHeaders = "content-type;host";
  const canonicalRequest = [
    method,
    "/",
    query,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(payload),
  ].join("\n");
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = ["TC3-HMAC-SHA256", String(timestamp), scope, sha256Hex(canonicalRequest)].join(
    "\n",
  );
  const kDate = hmac("TC3" + secretKey, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, "tc3_request");
  const signature = hmac(kSigning, stringToSign, "hex");
  const authorization =
    `TC3-HMAC-SHA256 Credential=${secretId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return parts ? { authorization, canonicalRequest, stringToSign, signature } : authorization;
}

/** v1 string to sign: METHOD + host + "/?" + sorted raw `k=v` joined by '&'. */
export function v1StringToSign(method, host, pairs) {
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${method}${host}/?` + sorted.map(([k, v]) => `${k}=${v}`).join("&");
}

/** v1 Base64 signature; HmacSHA256 only when the method says exactly so. */
export function v1Signature(secretKey, stringToSign, signatureMethod) {
  const algo = signatureMethod === "HmacSHA256" ? "sha256" : "sha1";
  return crypto.createHmac(algo, secretKey).update(stringToSign, "utf8").digest("base64");
}

/** Serialise an HTTP/1.1 request. `headers` is an array of [name, value]
 *  (duplicates allowed, order kept); Content-Length is added for a body
 *  unless a header list already names Content-Length or Transfer-Encoding. */
export function httpRequestBytes({ method = "POST", target = "/", headers = [], body = "" }) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const hasLen = headers.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
  const lines = [`${method} ${target} HTTP/1.1`];
  for (const [n, v] of headers) lines.push(`${n}: ${v}`);
  if (!hasLen && (b.length > 0 || method === "POST")) lines.push(`Content-Length: ${b.length}`);
  return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"), b]);
}

/**
 * Build a TC3-signed request. Options:
 *   action, params (object; JSON body for POST, flattened query for GET),
 *   body (exact POST payload, overrides params), method, contentType,
 *   version, timestamp, secretId/secretKey, host (Host header, signed as sent),
 *   language (X-TC-Language), region (X-TC-Region),
 *   query (exact GET query, overrides params),
 *   authorization (string: sent instead of the computed one; null: omitted),
 *   signBody (payload to sign when it must differ from the body sent),
 *   headers (extra [name, value] pairs), omit (header names to leave out),
 *   date/service (credential scope overrides).
 */
export function buildTc3({
  action,
  params = {},
  body,
  method = "POST",
  contentType,
  version = API_VERSION,
  timestamp = nowSeconds(),
  secretId,
  secretKey,
  host,
  language,
  region,
  query,
  authorization,
  signBody,
  headers = [],
  omit = [],
  date,
  service,
}) {
  let payload = "";
  let q = "";
  if (method === "GET") {
    q = query ?? encodePairs(flattenParams(params));
    contentType = contentType ?? "application/x-www-form-urlencoded";
  } else {
    payload = body ?? JSON.stringify(params);
    contentType = contentType ?? "application/json";
  }
  const auth =
    authorization !== undefined
      ? authorization
      : tc3Authorization({
          secretId,
          secretKey,
          method,
          host,
          query: q,
          contentType,
          payload: signBody ?? payload,
          timestamp,
          ...(date ? { date } : {}),
          ...(service ? { service } : {}),
        });
  let hs = [
    ["Host", host],
    ["Content-Type", contentType],
    ["X-TC-Action", action],
    ["X-TC-Version", version],
    ["X-TC-Timestamp", String(timestamp)],
  ];
  if (auth !== null) hs.push(["Authorization", auth]);
  if (language) hs.push(["X-TC-Language", language]);
  if (region) hs.push(["X-TC-Region", region]);
  hs = hs.filter(([n, v]) => v !== undefined && !omit.some((o) => o.toLowerCase() === n.toLowerCase()));
  hs.push(...headers);
  return httpRequestBytes({
    method,
    target: q ? `/?${q}` : "/",
    headers: hs,
    body: method === "GET" ? "" : payload,
  });
}

/**
 * Build a v1 (HmacSHA1 / HmacSHA256) request, GET query or form POST.
 * Options: action, params, method, signatureMethod ("HmacSHA1" sends no
 * SignatureMethod unless `sendMethod`), nonce, timestamp, version,
 * secretId/secretKey, host, language, extraPairs ([k,v] appended raw, e.g.
 * duplicates), signature (override), tamper(pairs) called after signing.
 */
export function buildV1({
  action,
  params = {},
  method = "GET",
  signatureMethod = "HmacSHA256",
  sendMethod = true,
  nonce = crypto.randomInt(1, 2 ** 31 - 1),
  timestamp = nowSeconds(),
  version = API_VERSION,
  secretId,
  secretKey,
  host,
  language,
  extraPairs = [],
  signature,
  tamper,
  headers = [],
}) {
  let pairs = flattenParams(params);
  pairs.push(["Action", action], ["Version", version], ["Timestamp", String(timestamp)]);
  pairs.push(["Nonce", String(nonce)], ["SecretId", secretId]);
  if (sendMethod) pairs.push(["SignatureMethod", signatureMethod]);
  if (language) pairs.push(["Language", language]);
  pairs.push(...extraPairs);
  const sig = signature ?? v1Signature(secretKey, v1StringToSign(method, host, pairs), signatureMethod);
  pairs.push(["Signature", sig]);
  if (tamper) pairs = tamper(pairs);
  const encoded = encodePairs(pairs);
  if (method === "GET") {
    return httpRequestBytes({ method, target: `/?${encoded}`, headers: [["Host", host], ...headers] });
  }
  return httpRequestBytes({
    method,
    target: "/",
    headers: [["Host", host], ["Content-Type", "application/x-www-form-urlencoded"], ...headers],
    body: encoded,
  });
}

/**
 * Parse one HTTP/1.x response starting at `off`. Returns null when the
 * bytes so far do not hold a complete response, else
 * {status, reason, headers (lower-case names), body (Buffer), end}.
 */
export function parseHttpResponse(buf, off = 0) {
  const sep = buf.indexOf("\r\n\r\n", off, "latin1");
  if (sep < 0) return null;
  const head = buf.subarray(off, sep).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(head[0]);
  if (!m) return { status: -1, reason: head[0], headers: {}, body: Buffer.alloc(0), end: buf.length, bad: true };
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let p = sep + 4;
  const status = Number(m[1]);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    const parts = [];
    for (;;) {
      const le = buf.indexOf("\r\n", p, "latin1");
      if (le < 0) return null;
      const size = parseInt(buf.subarray(p, le).toString("latin1"), 16);
      if (Number.isNaN(size)) return null;
      p = le + 2;
      if (size === 0) {
        const te = buf.indexOf("\r\n", p, "latin1");
        if (te < 0) return null;
        p = te + 2;
        break;
      }
      if (buf.length < p + size + 2) return null;
      parts.push(buf.subarray(p, p + size));
      p += size + 2;
    }
    return { status, reason: m[2], headers, body: Buffer.concat(parts), end: p };
  }
  const len = headers["content-length"] !== undefined ? Number(headers["content-length"]) : null;
  if (len === null) {
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      return { status, reason: m[2], headers, body: Buffer.alloc(0), end: p };
    }
    return null; // body delimited by close: completed by the caller
  }
  if (buf.length < p + len) return null;
  return { status, reason: m[2], headers, body: buf.subarray(p, p + len), end: p + len };
}

/** Attach `.json` / `.Response` to a parsed response when its body is JSON. */
function withJson(r) {
  if (!r) return r;
  try {
    r.json = JSON.parse(r.body.toString("utf8"));
    r.Response = r.json?.Response;
  } catch {
    r.json = undefined;
  }
  return r;
}

/**
 * Open a connection to 127.0.0.1:port, write `chunks` (a Buffer or an array
 * of Buffers/{delayMs} steps), and read until `count` responses were parsed,
 * the peer closed, or `timeoutMs`. Resolves (never rejects) with
 * {responses, response (the first), raw, closed, error, elapsedMs}.
 */
export function exchange(port, chunks, { count = 1, timeoutMs = 15000, host = "127.0.0.1" } = {}) {
  const steps = Buffer.isBuffer(chunks) ? [chunks] : chunks;
  const t0 = Date.now();
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const got = [];
    let done = false;
    let closed = false;
    let error = null;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const raw = Buffer.concat(got);
      const responses = [];
      let off = 0;
      for (;;) {
        let r = parseHttpResponse(raw, off);
        if (!r && closed && off < raw.length) {
          // body delimited by the connection close
          const sep = raw.indexOf("\r\n\r\n", off, "latin1");
          if (sep >= 0) {
            r = parseHttpResponse(
              Buffer.concat([raw.subarray(0, sep), Buffer.from(`\r\ncontent-length: ${raw.length - sep - 4}`), raw.subarray(sep)]),
              off,
            );
          }
        }
        if (!r) break;
        responses.push(withJson(r));
        if (r.end <= off || r.bad) break;
        off = r.end;
      }
      sock.destroy();
      resolve({ responses, response: responses[0], raw, closed, error, elapsedMs: Date.now() - t0 });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on("data", (c) => {
      got.push(c);
      const raw = Buffer.concat(got);
      let off = 0;
      let n = 0;
      for (;;) {
        const r = parseHttpResponse(raw, off);
        if (!r || r.bad) break;
        n++;
        off = r.end;
      }
      if (n >= count) finish();
    });
    sock.on("error", (e) => {
      error = e.code ?? String(e);
    });
    sock.on("close", () => {
      closed = true;
      finish();
    });
    sock.on("connect", async () => {
      for (const s of steps) {
        if (done || sock.destroyed) return;
        if (Buffer.isBuffer(s) || typeof s === "string") {
          sock.write(s, () => {});
        } else if (s && typeof s.delayMs === "number") {
          await new Promise((r) => setTimeout(r, s.delayMs));
        }
      }
    });
  });
}

/** Open a socket and resolve once connected (for idle/slow client tests). */
export function connect(port, host = "127.0.0.1") {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    sock.once("connect", () => resolve(sock));
    sock.once("error", reject);
  });
}

/** Resolve with the ms it took until `sock` is closed by the peer, or null
 *  after `timeoutMs`. Data received is ignored. */
export function waitClosed(sock, timeoutMs) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (sock.destroyed) return resolve(0);
    const timer = setTimeout(() => resolve(null), timeoutMs);
    sock.on("data", () => {});
    sock.on("error", () => {});
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - t0);
    };
    sock.once("close", done);
    sock.once("end", done);
  });
}
