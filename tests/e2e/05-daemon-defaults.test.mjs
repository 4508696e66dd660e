// 05-daemon-defaults: the daemon as README's run command starts it - a
// relative data directory (./var) in the working directory - creates a
// working instance. Paths under the data dir end up in the servers' own
// configuration files, so they must be made absolute by the daemon.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

import { PostgresClient, daemonBinary, freePort } from "./lib/daemon.mjs";
import { createInstance, vipRange } from "./lib/instances.mjs";

function waitPort(port, ms) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ port, host: "127.0.0.1" });
      s.once("connect", () => {
        s.destroy();
        resolve();
      });
      s.once("error", () => (Date.now() > end ? reject(new Error("daemon did not listen")) : setTimeout(attempt, 50)));
    };
    attempt();
  });
}

describe("daemon started with a relative data directory", () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "pgfleet-e2e-rel-"));
  fs.chmodSync(cwd, 0o711); // like a checkout: the servers' OS users must be able to traverse it
  let proc;
  let stderr = "";

  after(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    }
    for (const node of fs.existsSync(path.join(cwd, "var/nodes")) ? fs.readdirSync(path.join(cwd, "var/nodes")) : []) {
      const m = /^postgres-([a-z0-9]+)-\d+$/.exec(node);
      if (m && process.getuid() === 0) {
        try {
          execFileSync("/usr/sbin/userdel", [`pgf_${m[1]}`], { stdio: "ignore" });
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("creates an instance that answers queries, and stops cleanly", async () => {
    const port = await freePort();
    const vips = vipRange(4);
    proc = spawn(daemonBinary(), ["--data-dir", "var", "--listen", `127.0.0.1:${port}`, "--vip_first", vips.vip_first, "--vip_last", vips.vip_last], {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    proc.stderr.on("data", (b) => (stderr += b));
    await waitPort(port, 20000);
    const cred = JSON.parse(fs.readFileSync(path.join(cwd, "var/credentials.json"), "utf8"));
    const c = new PostgresClient({
      credential: cred,
      region: "ap-guangzhou",
      profile: { httpProfile: { endpoint: `127.0.0.1:${port}`, protocol: "http://" } },
    });
    const inst = await createInstance(c);
    assert.ok(inst.ip.startsWith(vips.vip_first.split(".").slice(0, 3).join(".")), `address from the range: ${inst.ip}`);
    proc.kill("SIGTERM");
    const code = await new Promise((r) => proc.once("exit", (c2) => r(c2)));
    assert.equal(code, 0, `exit code 0; stderr:\n${stderr.slice(-2000)}`);
    assert.doesNotMatch(stderr, /AddressSanitizer|runtime error:|ERROR \[main\]/);
  });
});
