// 03-catalog: the five specification actions. Shapes follow the SDK models
// (RegionInfo, ZoneInfo, SpecInfo/SpecItemInfo, Version, ClassInfo) with no
// undocumented fields; the views agree with each other (zones, spec codes,
// CPU and memory); database versions are exactly the PostgreSQL servers
// installed under /usr/lib/postgresql/*/bin, computed here from
// `postgres --version`; unknown zones and major versions are refused.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";

import { expectCode, replaceIfDead, sdkError, startDaemon } from "./lib/daemon.mjs";

const PG_ROOT = "/usr/lib/postgresql";

/** Installed PostgreSQL servers: [{major, version}] from `postgres --version`. */
function installedPostgres() {
  const out = [];
  if (!fs.existsSync(PG_ROOT)) return out;
  for (const dir of fs.readdirSync(PG_ROOT)) {
    const bin = path.join(PG_ROOT, dir, "bin", "postgres");
    if (!fs.existsSync(bin)) continue;
    const text = execFileSync(bin, ["--version"], { encoding: "utf8" });
    const m = /\(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(text);
    assert.ok(m, `cannot parse ${bin} --version: ${text}`);
    out.push({ major: m[1], version: m[2] !== undefined ? `${m[1]}.${m[2]}` : m[1] });
  }
  return out;
}

// Documented codes of DescribeClasses (seed) plus the common validation codes.
const CLASSES_REFUSALS = new Set([
  "InvalidParameter",
  "InvalidParameterValue",
  "InvalidParameter.ParameterCheckError",
  "InvalidParameterValue.InvalidZoneIdError",
  "InvalidParameterValue.IllegalZone",
  "InvalidParameterValue.InvalidParameterValueError",
  "ResourceNotFound",
]);

const isInt = (v) => Number.isInteger(v);
const isStr = (v) => typeof v === "string" && v.length > 0;

function assertKeys(obj, allowed, what) {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  assert.deepEqual(extra, [], `${what}: undocumented fields ${extra}`);
}

let d;
let c;
let installed;
let regions;
let zones;
let versions;
let productConfig;
const crashes = [];

async function setup() {
  d = await startDaemon();
  c = d.client();
  regions = await c.DescribeRegions({});
  zones = await c.DescribeZones({});
  versions = await c.DescribeDBVersions({});
  productConfig = await c.DescribeProductConfig({});
  return d;
}

before(async () => {
  installed = installedPostgres();
  await setup();
});
beforeEach(async () => {
  d = await replaceIfDead(d, crashes, setup);
});

after(async () => {
  if (d) {
    await d.stop({ check: false });
    d.cleanup();
  }
});

describe("DescribeRegions", () => {
  it("returns RegionInfo items and a matching TotalCount", () => {
    assertKeys(regions, ["TotalCount", "RegionSet", "RequestId"], "DescribeRegions");
    assert.ok(Array.isArray(regions.RegionSet) && regions.RegionSet.length > 0, "at least one region");
    assert.equal(regions.TotalCount, regions.RegionSet.length, "TotalCount = number of regions");
    for (const r of regions.RegionSet) {
      const w = `region ${JSON.stringify(r)}`;
      assertKeys(r, ["Region", "RegionName", "RegionId", "RegionState", "SupportInternational"], w);
      assert.ok(isStr(r.Region) && /^[a-z0-9-]+$/.test(r.Region), `${w}: Region`);
      assert.ok(isStr(r.RegionName), `${w}: RegionName`);
      assert.ok(isInt(r.RegionId), `${w}: RegionId integer`);
      assert.ok(["AVAILABLE", "UNAVAILABLE"].includes(r.RegionState), `${w}: RegionState`);
      assert.ok(r.SupportInternational === null || [0, 1].includes(r.SupportInternational), `${w}: SupportInternational`);
    }
    const names = regions.RegionSet.map((r) => r.Region);
    assert.equal(new Set(names).size, names.length, "region names are unique");
    assert.ok(regions.RegionSet.some((r) => r.RegionState === "AVAILABLE"), "some region is AVAILABLE");
  });

  it("answers the same over every transport", async () => {
    for (const [signMethod, reqMethod] of [["TC3-HMAC-SHA256", "GET"], ["HmacSHA1", "POST"]]) {
      const r = await d.client({ signMethod, reqMethod }).DescribeRegions({});
      assert.deepEqual(r.RegionSet, regions.RegionSet, `${signMethod} ${reqMethod}`);
    }
  });
});

describe("DescribeZones", () => {
  it("returns ZoneInfo items, standby zones among them", () => {
    assertKeys(zones, ["TotalCount", "ZoneSet", "RequestId"], "DescribeZones");
    assert.ok(zones.ZoneSet.length > 0, "at least one zone");
    assert.equal(zones.TotalCount, zones.ZoneSet.length, "TotalCount = number of zones");
    const names = zones.ZoneSet.map((z) => z.Zone);
    assert.equal(new Set(names).size, names.length, "zone names are unique");
    for (const z of zones.ZoneSet) {
      const w = `zone ${JSON.stringify(z)}`;
      assertKeys(z, ["Zone", "ZoneName", "ZoneId", "ZoneState", "ZoneSupportIpv6", "StandbyZoneSet"], w);
      assert.ok(isStr(z.Zone) && isStr(z.ZoneName), `${w}: names`);
      assert.ok(isInt(z.ZoneId), `${w}: ZoneId integer`);
      assert.ok(["AVAILABLE", "UNAVAILABLE", "SELLOUT", "SUPPORTMODIFYONLY"].includes(z.ZoneState), `${w}: ZoneState`);
      assert.ok(isInt(z.ZoneSupportIpv6), `${w}: ZoneSupportIpv6 integer`);
      if (z.StandbyZoneSet !== null && z.StandbyZoneSet !== undefined) {
        assert.ok(Array.isArray(z.StandbyZoneSet), `${w}: StandbyZoneSet array`);
        for (const s of z.StandbyZoneSet) assert.ok(names.includes(s), `${w}: standby zone ${s} is not a zone`);
      }
    }
    assert.ok(zones.ZoneSet.some((z) => z.ZoneState === "AVAILABLE"), "some zone is AVAILABLE");
  });

  it("with a Region in the request, answers a subset of the zones", async () => {
    const region = regions.RegionSet[0].Region;
    const r = await d.client({ region }).DescribeZones({});
    const all = zones.ZoneSet.map((z) => z.Zone);
    for (const z of r.ZoneSet) assert.ok(all.includes(z.Zone), `zone ${z.Zone} for region ${region}`);
    assert.equal(r.TotalCount, r.ZoneSet.length);
  });
});

describe("DescribeDBVersions", () => {
  it("finds PostgreSQL installed on this machine (precondition)", () => {
    assert.ok(installed.length > 0, `no ${PG_ROOT}/*/bin/postgres found`);
  });

  it("returns Version items with consistent major, version and kernel", () => {
    assertKeys(versions, ["VersionSet", "RequestId"], "DescribeDBVersions");
    const kernels = versions.VersionSet.map((v) => v.DBKernelVersion);
    for (const v of versions.VersionSet) {
      const w = `version ${JSON.stringify(v)}`;
      assertKeys(
        v,
        ["DBEngine", "DBVersion", "DBMajorVersion", "DBKernelVersion", "SupportedFeatureNames", "Status", "AvailableUpgradeTarget"],
        w,
      );
      assert.ok(["postgresql", "mssql_compatible"].includes(v.DBEngine), `${w}: DBEngine`);
      assert.equal(v.DBMajorVersion, v.DBVersion.split(".")[0], `${w}: DBMajorVersion is the major of DBVersion`);
      const esc = v.DBVersion.replace(/\./g, "\\.");
      assert.match(v.DBKernelVersion, new RegExp(`^v${esc}_r\\d+\\.\\d+$`), `${w}: DBKernelVersion`);
      assert.ok(Array.isArray(v.SupportedFeatureNames), `${w}: SupportedFeatureNames array`);
      assert.ok(["AVAILABLE", "DEPRECATED"].includes(v.Status), `${w}: Status`);
      assert.ok(Array.isArray(v.AvailableUpgradeTarget), `${w}: AvailableUpgradeTarget array`);
      for (const k of v.AvailableUpgradeTarget) assert.ok(kernels.includes(k), `${w}: upgrade target ${k} is not a listed kernel`);
    }
    assert.equal(new Set(kernels).size, kernels.length, "kernel versions are unique");
  });

  it("the PostgreSQL versions are exactly those installed (postgres --version)", () => {
    const got = versions.VersionSet.filter((v) => v.DBEngine === "postgresql")
      .map((v) => `${v.DBMajorVersion}/${v.DBVersion}`)
      .sort();
    const want = installed.map((v) => `${v.major}/${v.version}`).sort();
    assert.deepEqual([...new Set(got)], want, "DBMajorVersion/DBVersion of engine postgresql vs the installed servers");
    assert.ok(versions.VersionSet.filter((v) => v.DBEngine === "postgresql").every((v) => v.Status === "AVAILABLE"));
  });
});

describe("DescribeProductConfig", () => {
  const installedVersions = () => installed.map((v) => v.version);

  it("returns SpecInfo per zone with SpecItemInfo of installed versions", () => {
    assertKeys(productConfig, ["SpecInfoList", "RequestId"], "DescribeProductConfig");
    const zoneNames = zones.ZoneSet.map((z) => z.Zone);
    const regionNames = regions.RegionSet.map((r) => r.Region);
    assert.ok(productConfig.SpecInfoList.length > 0, "some zone sells something");
    for (const s of productConfig.SpecInfoList) {
      const w = `SpecInfo ${s.Region}/${s.Zone}`;
      assertKeys(s, ["Region", "Zone", "SpecItemInfoList", "SupportKMSRegions"], w);
      assert.ok(regionNames.includes(s.Region), `${w}: unknown region`);
      assert.ok(zoneNames.includes(s.Zone), `${w}: unknown zone`);
      assert.ok(s.SpecItemInfoList.length > 0, `${w}: no specs`);
      for (const i of s.SpecItemInfoList) {
        const wi = `${w} ${JSON.stringify(i)}`;
        assertKeys(
          i,
          ["SpecCode", "Version", "VersionName", "Cpu", "Memory", "MaxStorage", "MinStorage", "Qps", "Pid", "Type", "MajorVersion", "KernelVersion", "IsSupportTDE"],
          wi,
        );
        assert.ok(isStr(i.SpecCode) && isStr(i.VersionName) && typeof i.Type === "string", `${wi}: strings`);
        for (const k of ["Cpu", "Memory", "MaxStorage", "MinStorage", "Qps", "Pid"]) assert.ok(isInt(i[k]), `${wi}: ${k} integer`);
        assert.ok(i.Cpu > 0 && i.Memory > 0, `${wi}: Cpu and Memory positive`);
        assert.ok(i.MinStorage > 0 && i.MinStorage <= i.MaxStorage, `${wi}: MinStorage <= MaxStorage`);
        assert.ok(installedVersions().includes(i.Version), `${wi}: Version ${i.Version} is not installed`);
        if (i.MajorVersion !== null && i.MajorVersion !== undefined) {
          assert.equal(i.MajorVersion, i.Version.split(".")[0], `${wi}: MajorVersion`);
        }
      }
    }
  });

  it("with Zone, answers that zone only", async () => {
    const zone = productConfig.SpecInfoList[0].Zone;
    const r = await c.DescribeProductConfig({ Zone: zone });
    assert.ok(r.SpecInfoList.length > 0, `specs for ${zone}`);
    for (const s of r.SpecInfoList) assert.equal(s.Zone, zone);
  });

  it("a DBEngine outside the enum is InvalidParameterValue", async () => {
    await expectCode(c.DescribeProductConfig({ DBEngine: "oracle" }), "InvalidParameterValue", "DBEngine oracle");
  });

  it("an unknown Zone is refused or sells nothing", async () => {
    try {
      const r = await c.DescribeProductConfig({ Zone: "nowhere-9" });
      assert.deepEqual(r.SpecInfoList, [], "an unknown zone sells nothing");
    } catch (e) {
      assert.match(String(e.code), /^InvalidParameter/, `unknown zone: ${e.code}: ${e.message}`);
    }
  });
});

describe("DescribeClasses", () => {
  it("for every zone and installed major version, agrees with DescribeProductConfig", async () => {
    for (const s of productConfig.SpecInfoList) {
      for (const { major } of installed) {
        const r = await c.DescribeClasses({ Zone: s.Zone, DBEngine: "postgresql", DBMajorVersion: major });
        const w = `DescribeClasses ${s.Zone} ${major}`;
        assertKeys(r, ["ClassInfoSet", "RequestId"], w);
        assert.ok(r.ClassInfoSet.length > 0, `${w}: no classes`);
        const codes = r.ClassInfoSet.map((k) => k.SpecCode);
        assert.equal(new Set(codes).size, codes.length, `${w}: SpecCodes unique`);
        const items = s.SpecItemInfoList.filter((i) => i.Version.split(".")[0] === major);
        for (const k of r.ClassInfoSet) {
          const wk = `${w} ${JSON.stringify(k)}`;
          assertKeys(k, ["SpecCode", "CPU", "Memory", "MaxStorage", "MinStorage", "QPS"], wk);
          for (const f of ["CPU", "Memory", "MaxStorage", "MinStorage", "QPS"]) assert.ok(isInt(k[f]), `${wk}: ${f} integer`);
          assert.ok(k.CPU > 0 && k.Memory > 0 && k.MinStorage <= k.MaxStorage, `${wk}: sizes`);
          const i = items.find((x) => x.SpecCode === k.SpecCode);
          assert.ok(i, `${wk}: not in DescribeProductConfig for ${s.Zone}`);
          assert.equal(k.CPU, i.Cpu, `${wk}: CPU vs ProductConfig Cpu`);
          assert.equal(k.Memory, i.Memory, `${wk}: Memory vs ProductConfig Memory`);
        }
        assert.deepEqual(
          [...codes].sort(),
          [...new Set(items.map((i) => i.SpecCode))].sort(),
          `${w}: same spec codes as DescribeProductConfig`,
        );
      }
    }
  });

  it("an unknown zone is refused with an error code", async () => {
    const e = await sdkError(c.DescribeClasses({ Zone: "nowhere-9", DBEngine: "postgresql", DBMajorVersion: installed[0].major }));
    assert.ok(CLASSES_REFUSALS.has(e.code), `unknown zone: unexpected ${e.code}: ${e.message}`);
  });

  it("an unknown major version is refused with an error code", async () => {
    const zone = productConfig.SpecInfoList[0].Zone;
    for (const major of ["9", "99", "abc"]) {
      const e = await sdkError(c.DescribeClasses({ Zone: zone, DBEngine: "postgresql", DBMajorVersion: major }));
      assert.ok(CLASSES_REFUSALS.has(e.code), `major ${major}: unexpected ${e.code}: ${e.message}`);
    }
  });

  it("a DBEngine outside the enum is InvalidParameterValue", async () => {
    const zone = productConfig.SpecInfoList[0].Zone;
    await expectCode(
      c.DescribeClasses({ Zone: zone, DBEngine: "mysql", DBMajorVersion: installed[0].major }),
      "InvalidParameterValue",
      "DBEngine mysql",
    );
  });
});

describe("shutdown", () => {
  it("SIGTERM: exit code 0, no sanitizer report; no crash during the file", async () => {
    await d.stop();
    assert.deepEqual(crashes, [], `pgfleetd died during this file (and was restarted):${crashes.join("\n")}`);
  });
});
