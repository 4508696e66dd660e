// 11-accounts: accounts and databases are the server's own roles and
// databases. DescribeAccounts lists the admin and roles made over SQL (never
// the service's pgfleet_super); ModifyAccountRemark keeps a remark verbatim;
// DescribeDatabases lists databases made over SQL; ResetAccountPassword
// changes the password on the server at once, enforces the password rules,
// quotes names and passwords safely and cannot touch pgfleet_super. The
// admin account stays inside its instance: no way to the OS user the
// servers run as (which owns every tenant's data directory).

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import {
  createInstance,
  disposeFleet,
  expectAuthFailure,
  fmtMs,
  sql,
  startFleet,
  withPg,
} from "./lib/instances.mjs";

// Mixed case (must be quoted in SQL, or PostgreSQL folds it) and a password
// with a quote and SQL in it that passes the rules: both given at creation.
const ADMIN = "E2e_Admin";
const ADMIN_PW = "Cr3ate';--pw";
const U2 = "u2";
const U2_PW = "U2_initial_pw";
const WEIRD = `we'ird "x" \\ name`; // a role name only SQL can make
const NOT_EXIST = "InvalidParameterValue.AccountNotExistError";

let d;
let c;
let inst;
let adminPw = ADMIN_PW;

const as = (user, password, database) => ({ host: inst.ip, user, password, database });
const admin = (database) => as(ADMIN, adminPw, database);

before(async () => {
  d = await startFleet();
  c = d.client();
  inst = await createInstance(c, { Name: "e2e-accounts", AdminName: ADMIN, AdminPassword: ADMIN_PW });
  await withPg(admin(), async (cl) => {
    await cl.query(`CREATE ROLE ${U2} LOGIN PASSWORD '${U2_PW}'`);
    await cl.query(`CREATE ROLE "${WEIRD.replace(/"/g, '""')}" LOGIN PASSWORD 'Weird_pw_1'`);
    await cl.query("CREATE DATABASE e2e_db1");
    await cl.query("CREATE DATABASE e2e_db2");
  });
});

after(async () => {
  // the shutdown tests check that SIGTERM stops the servers; this only makes
  // sure nothing is left whatever happened
  await disposeFleet(d);
});

async function accounts(params = {}) {
  return c.DescribeAccounts({ DBInstanceId: inst.id, ...params });
}
const names = (r) => r.Details.map((a) => a.UserName);

describe("DescribeAccounts", () => {
  it("lists the admin and the roles made over SQL, not pgfleet_super", async (t) => {
    t.diagnostic(`instance running after ${fmtMs(inst.ms.running)}`);
    const r = await accounts({ Limit: 100 });
    assert.deepEqual(names(r).sort(), [ADMIN, U2, WEIRD].sort());
    assert.equal(r.TotalCount, 3);
    const a = r.Details.find((x) => x.UserName === ADMIN);
    assert.equal(a.DBInstanceId, inst.id);
    assert.equal(a.UserType, "tencentDBSuper");
    assert.equal(r.Details.find((x) => x.UserName === U2).UserType, "normal");
    assert.ok(!names(r).some((n) => n.startsWith("pgfleet") || n.startsWith("pg_") || n === "postgres"));
  });

  it("orders by name and pages", async () => {
    const asc = names(await accounts({ OrderBy: "name", OrderByType: "asc", Limit: 100 }));
    assert.deepEqual(asc, [ADMIN, U2, WEIRD].sort());
    assert.deepEqual(names(await accounts({ OrderBy: "name", OrderByType: "desc", Limit: 100 })), [...asc].reverse());
    const page = await accounts({ OrderBy: "name", OrderByType: "asc", Limit: 1, Offset: 1 });
    assert.deepEqual([page.TotalCount, names(page)], [3, [asc[1]]]);
  });

  it("a role dropped over SQL disappears", async () => {
    await sql(admin(), "CREATE ROLE e2e_gone LOGIN");
    assert.ok(names(await accounts({ Limit: 100 })).includes("e2e_gone"));
    await sql(admin(), "DROP ROLE e2e_gone");
    assert.ok(!names(await accounts({ Limit: 100 })).includes("e2e_gone"));
  });
});

describe("ModifyAccountRemark", () => {
  it("sets a remark that DescribeAccounts shows verbatim", async () => {
    const remark = `it's "quoted" \\ back; --`;
    await c.ModifyAccountRemark({ DBInstanceId: inst.id, UserName: U2, Remark: remark });
    await c.ModifyAccountRemark({ DBInstanceId: inst.id, UserName: ADMIN, Remark: "the admin" });
    const r = await accounts({ Limit: 100 });
    assert.equal(r.Details.find((x) => x.UserName === U2).Remark, remark);
    assert.equal(r.Details.find((x) => x.UserName === ADMIN).Remark, "the admin");
  });

  it("refuses an unknown account and pgfleet_super", async () => {
    await expectCode(c.ModifyAccountRemark({ DBInstanceId: inst.id, UserName: "nobody", Remark: "x" }), NOT_EXIST);
    await expectCode(c.ModifyAccountRemark({ DBInstanceId: inst.id, UserName: "pgfleet_super", Remark: "x" }), NOT_EXIST);
  });
});

describe("DescribeDatabases", () => {
  it("lists the databases made over SQL with Items, TotalCount and Databases", async () => {
    const r = await c.DescribeDatabases({ DBInstanceId: inst.id });
    assert.ok(r.Items.includes("e2e_db1") && r.Items.includes("e2e_db2") && r.Items.includes("postgres"), `Items: ${r.Items}`);
    assert.equal(r.TotalCount, r.Items.length);
    assert.deepEqual(r.Databases.map((x) => x.DatabaseName), r.Items);
    const db1 = r.Databases.find((x) => x.DatabaseName === "e2e_db1");
    assert.equal(db1.DatabaseOwner, ADMIN);
    assert.equal(db1.Encoding, "UTF8");
  });

  it("a database dropped over SQL disappears; filters and pages", async () => {
    await sql(admin(), "CREATE DATABASE e2e_tmp");
    assert.ok((await c.DescribeDatabases({ DBInstanceId: inst.id })).Items.includes("e2e_tmp"));
    await sql(admin(), "DROP DATABASE e2e_tmp");
    assert.ok(!(await c.DescribeDatabases({ DBInstanceId: inst.id })).Items.includes("e2e_tmp"));
    const f = await c.DescribeDatabases({ DBInstanceId: inst.id, Filters: [{ Name: "database-name", Values: ["e2e_db"] }] });
    assert.deepEqual([f.TotalCount, [...f.Items].sort()], [2, ["e2e_db1", "e2e_db2"]]);
    const p = await c.DescribeDatabases({ DBInstanceId: inst.id, Filters: [{ Name: "database-name", Values: ["e2e_db"] }], Limit: 1, Offset: 1 });
    assert.deepEqual([p.TotalCount, p.Items.length], [2, 1]);
  });
});

describe("ResetAccountPassword", () => {
  it("the admin's old password fails at once for a new connection, the new one works", async () => {
    const next = "Next_pass_2";
    await c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: ADMIN, Password: next });
    await expectAuthFailure(as(ADMIN, ADMIN_PW), "the old admin password");
    adminPw = next;
    assert.deepEqual(await sql(admin(), "SELECT current_user AS u"), [{ u: ADMIN }]);
    const a = (await accounts({ Limit: 100 })).Details.find((x) => x.UserName === ADMIN);
    assert.notEqual(a.PasswordUpdateTime, "", "PasswordUpdateTime is set");
  });

  it("works for a role made over SQL", async () => {
    await c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: U2, Password: "U2_second_pw" });
    await expectAuthFailure(as(U2, U2_PW), "u2's old password");
    await sql(as(U2, "U2_second_pw"), "SELECT 1");
  });

  it("quotes a role name that needs quoting", async () => {
    await c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: WEIRD, Password: "Weird_pw_2" });
    assert.deepEqual(await sql(as(WEIRD, "Weird_pw_2"), "SELECT current_user AS u"), [{ u: WEIRD }]);
  });

  it("stores a password with quotes and SQL in it safely (it passes the rules, and logs in)", async () => {
    const pw = "Aa1';DROP/**/ROLE/**/u2;--";
    await c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: U2, Password: pw });
    await sql(as(U2, pw), "SELECT 1");
    assert.ok(names(await accounts({ Limit: 100 })).includes(U2), "u2 still exists");
  });

  it("refuses passwords against the rules", async () => {
    const bad = [
      ["Sh0rt_a", "InvalidParameterValue.InvalidPasswordLengthError"],
      [`Aa1_${"x".repeat(29)}`, "InvalidParameterValue.InvalidPasswordLengthError"],
      ["nouppercase_1", "InvalidParameterValue.InvalidPasswordFormat"],
      ["NOLOWERCASE_1", "InvalidParameterValue.InvalidPasswordFormat"],
      ["No_digits_here", "InvalidParameterValue.InvalidPasswordFormat"],
      ["NoSymbols123", "InvalidParameterValue.InvalidPasswordFormat"],
      ["Back\\slash_1", "InvalidParameterValue.InvalidPasswordFormat"],
      ["'; drop role u2; --", "InvalidParameterValue.InvalidPasswordFormat"],
    ];
    for (const [pw, code] of bad) {
      await expectCode(c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: ADMIN, Password: pw }), code, `password ${JSON.stringify(pw)}`);
    }
    await sql(admin(), "SELECT 1"); // unchanged
  });

  it("refuses an unknown user, a name built to break SQL, and pgfleet_super", async () => {
    await expectCode(c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: "nobody", Password: "Valid_pass1" }), NOT_EXIST);
    await expectCode(
      c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: "u2'; DROP ROLE u2; --", Password: "Valid_pass1" }),
      NOT_EXIST,
    );
    await expectCode(c.ResetAccountPassword({ DBInstanceId: inst.id, UserName: "pgfleet_super", Password: "Valid_pass1" }), NOT_EXIST);
    await expectAuthFailure(as("pgfleet_super", "Valid_pass1"), "pgfleet_super with the password just refused");
    // the service still reaches its server
    assert.ok(names(await accounts({ Limit: 100 })).includes(U2));
  });
});

describe("the admin account stays inside its instance", () => {
  it("is not a superuser and cannot alter pgfleet_super", async () => {
    const [row] = await sql(admin(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    assert.equal(row.rolsuper, false);
    await assert.rejects(sql(admin(), "ALTER ROLE pgfleet_super PASSWORD 'Taken_over1'"), /superuser/);
  });

  it("cannot run programs or read/write files as the servers' OS user", async () => {
    // The servers of every tenant run as one OS user that owns all their data
    // directories: a program or file access as that user crosses tenants.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pgfleet-e2e-escape-"));
    fs.chmodSync(tmp, 0o777);
    const marker = path.join(tmp, "ran");
    const written = path.join(tmp, "written");
    const escalations = [
      "GRANT pg_execute_server_program, pg_read_server_files, pg_write_server_files TO CURRENT_USER",
      "CREATE ROLE e2e_escape LOGIN PASSWORD 'Escape_pw1' IN ROLE pg_execute_server_program, pg_read_server_files, pg_write_server_files",
    ];
    const attempts = [
      ["COPY TO PROGRAM", `COPY (SELECT 1) TO PROGRAM 'touch ${marker}'`],
      ["COPY FROM a server file", "CREATE TEMP TABLE f(l text); COPY f FROM '/etc/passwd'"],
      ["COPY TO a server file", `COPY (SELECT 1) TO '${written}'`],
    ];
    const succeeded = [];
    try {
      for (const [who, opts] of [
        ["admin", admin()],
        ["a role the admin made", as("e2e_escape", "Escape_pw1")],
      ]) {
        for (const q of escalations) await sql(admin(), q).catch(() => {});
        let conn;
        try {
          conn = await withPg(opts, async (cl) => {
            for (const [what, q] of attempts) {
              try {
                await cl.query(q);
                succeeded.push(`${who}: ${what}`);
              } catch {
                // refused, as it must be
              }
            }
            return true;
          });
        } catch {
          conn = false; // the role could not be made or cannot log in: fine
        }
        assert.ok(conn || who !== "admin", "the admin can log in");
      }
      if (fs.existsSync(marker)) succeeded.push("a program ran as the servers' OS user");
      if (fs.existsSync(written)) succeeded.push("a file was written as the servers' OS user");
      assert.deepEqual(succeeded, [], "every escape must be refused");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("shutdown", () => {
  it("the daemon exits 0 on SIGTERM without a sanitizer report", async () => {
    await d.stop();
  });
});
