// 30-billing: the price book, orders and the life of a purchase, through the
// official SDK, with business time driven by the operator's clock control
// (`pgfleetd clock-advance`, never the public API).
//
// The daemon runs with a price book of the test's own (lib/billing.mjs), so
// every quote is checked against numbers computed here: purchase (with the
// period discount), renewal, upgrade (prorated), and hourly charges.
// CreateInstances returns DealNames that DescribeOrders turns into the
// instance ids (how Terraform finds them); RenewInstance extends ExpireTime;
// an instance with AutoRenewFlag 1 renews itself at expiry; one without is
// isolated at expiry, comes back when renewed, and is destroyed after the
// recycle retention; pay-as-you-go instances are charged by the hour and
// refuse renewal; ModifyDBInstanceChargeType switches both ways. Bad input
// gets the documented codes and orders nothing.

import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";

import { expectCode } from "./lib/daemon.mjs";
import { BOOK, HOUR_S, MONTH_S, clockAdvance, clockShow, ledger, parseTime, prepaidQuote, rate } from "./lib/billing.mjs";
import { NOT_FOUND_CODES, createInstance, disposeFleet, expectOneOf, nodeDir, startFleet, waitFor, waitStatus } from "./lib/instances.mjs";

const ZONE = "ap-guangzhou-3";
const SPEC = "cdb.pg.z1.2g";
const RETENTION_S = 3 * 86400;

let d;
let c;
const inst = {}; // name -> {id, deal}

before(async () => {
  d = await startFleet({ config: { supervise_ms: 200, pricing: BOOK, recycle_retention_s: RETENTION_S } });
  c = d.client();
});

after(async () => {
  // a clean SIGTERM exit without sanitizer reports, then nothing left behind
  try {
    await d.stop();
  } finally {
    await disposeFleet(d);
  }
});

const attr = async (id) => (await c.DescribeDBInstanceAttribute({ DBInstanceId: id })).DBInstance;
const expireOf = async (id) => parseTime((await attr(id)).ExpireTime);

/** CreateInstances with the test's defaults; records the order too. */
async function buy(name, over = {}) {
  const r = await createInstance(c, { InstanceChargeType: "PREPAID", Period: 1, Storage: 10, SpecCode: SPEC, ...over });
  inst[name] = { id: r.id, ip: r.ip };
  return inst[name];
}

describe("price inquiries match the price book", () => {
  it("InquiryPriceCreateDBInstances: prepaid with the period discount, in cents of the book's currency", async () => {
    for (const [months, count, storage] of [[1, 1, 10], [6, 2, 100], [12, 1, 250], [36, 3, 20]]) {
      const q = await c.InquiryPriceCreateDBInstances({
        Zone: ZONE, SpecCode: SPEC, Storage: storage, InstanceCount: count, Period: months, InstanceChargeType: "PREPAID",
      });
      const want = prepaidQuote(SPEC, storage, months, count);
      assert.deepEqual({ OriginalPrice: q.OriginalPrice, Price: q.Price, Currency: q.Currency },
        { ...want, Currency: BOOK.Currency }, `${months} months x ${count} with ${storage} GB`);
    }
  });

  it("InquiryPriceCreateDBInstances: pay-as-you-go is one hour (fractional per-GB rates add up exactly)", async () => {
    const q = await c.InquiryPriceCreateDBInstances({
      Zone: ZONE, SpecCode: SPEC, Storage: 101, InstanceCount: 2, Period: 1, InstanceChargeType: "POSTPAID_BY_HOUR",
    });
    assert.equal(q.OriginalPrice, Math.round(2 * rate(SPEC, 101).hourly)); // 2 x (20 + 50.5) = 141
    assert.equal(q.Price, q.OriginalPrice);
  });

  it("a spec the book does not list is priced per core and GB of memory", async () => {
    const q = await c.InquiryPriceCreateDBInstances({
      Zone: ZONE, SpecCode: "cdb.pg.z1.8g", Storage: 10, InstanceCount: 1, Period: 1, InstanceChargeType: "PREPAID",
    });
    assert.equal(q.OriginalPrice, Math.round(rate("none", 10, { cpu: 2, memoryMb: 8192 }).monthly)); // 2x3000 + 8x2000 + 1000
  });

  it("bad input: unknown spec, zone, period, storage and charge type get the documented codes", async () => {
    const base = { Zone: ZONE, SpecCode: SPEC, Storage: 10, InstanceCount: 1, Period: 1 };
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, SpecCode: "cdb.pg.nope" }), "InvalidParameterValue.SpecNotRecognizedError");
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, Zone: "ap-nowhere-1" }), "InvalidParameterValue.InvalidZoneIdError");
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, Period: 13 }), "InvalidParameterValue");
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, Storage: 5 }), "InvalidParameterValue.InvalidParameterValueError");
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, InstanceChargeType: "MONTHLY" }), "InvalidParameterValue.IllegalInstanceChargeType");
    await expectCode(c.InquiryPriceCreateDBInstances({ ...base, InstanceChargeType: "POSTPAID_BY_HOUR", Period: 3 }),
      "InvalidParameterValue.InvalidParameterValueError");
  });
});

describe("orders", () => {
  before(async () => {
    // A: prepaid, manual renewal; B: renews itself; C: pay-as-you-go; D: expires
    await buy("A");
    await buy("B", { AutoRenewFlag: 1 });
    await buy("C", { InstanceChargeType: "POSTPAID_BY_HOUR" });
    await buy("D");
  });

  it("a prepaid CreateInstances returns DealNames; DescribeOrders leads to the instance ids", async () => {
    const r = await c.CreateInstances({
      Zone: ZONE, SpecCode: SPEC, Storage: 10, InstanceCount: 2, Period: 1, Charset: "UTF8", AdminName: "e2e_admin",
      AdminPassword: "Secret_pass1", DBMajorVersion: "15", InstanceChargeType: "PREPAID",
    });
    assert.equal(r.DealNames.length, 1, JSON.stringify(r));
    assert.match(r.DealNames[0], /^\d{20}$/);
    assert.match(r.BillId, /^\d{18}$/);
    const o = await c.DescribeOrders({ DealNames: r.DealNames });
    assert.equal(o.TotalCount, 1);
    const deal = o.Deals[0];
    assert.equal(deal.DealName, r.DealNames[0]);
    assert.deepEqual([...deal.DBInstanceIdSet].sort(), [...r.DBInstanceIdSet].sort());
    assert.equal(deal.Count, 2);
    assert.equal(deal.PayMode, 1, "prepaid");
    assert.ok(deal.FlowId > 0, `the creation task: ${deal.FlowId}`);
    assert.match(deal.OwnerUin, /^\d+$/);
    // the two wait for nothing here; destroy them at once (no disk kept)
    for (const id of r.DBInstanceIdSet) await waitStatus(c, id, "running");
    await c.IsolateDBInstances({ DBInstanceIdSet: r.DBInstanceIdSet });
    for (const id of r.DBInstanceIdSet) await waitStatus(c, id, "isolated");
    for (const id of r.DBInstanceIdSet) await c.DestroyDBInstance({ DBInstanceId: id });
  });

  it("the purchase is billed at the book's price; a pay-as-you-go purchase costs nothing up front", async () => {
    const a = await ledger(d, inst.A.id);
    const order = a.find((r) => r.Type === "order" && r.Action === "purchase");
    assert.ok(order, JSON.stringify(a));
    assert.equal(order.Price, prepaidQuote(SPEC, 10, 1).Price);
    const bill = a.find((r) => r.Type === "bill" && r.BillId === order.BillId);
    assert.equal(bill.Amount, order.Price);
    const cl = await ledger(d, inst.C.id);
    const co = cl.find((r) => r.Type === "order");
    assert.equal(co.PayMode, 0);
    assert.equal(co.Price, 0);
    const o = await c.DescribeOrders({ DealNames: [co.DealName] });
    assert.equal(o.Deals[0].PayMode, 0);
  });

  it("unknown deals are not listed; another tenant sees none of ours; empty names are refused", async () => {
    const mine = (await ledger(d, inst.A.id)).find((r) => r.Type === "order").DealName;
    let o = await c.DescribeOrders({ DealNames: ["20000101000000000000"] });
    assert.equal(o.TotalCount, 0);
    assert.deepEqual(o.Deals, []);
    const other = d.client(await d.tenantCreate("billing-other"));
    o = await other.DescribeOrders({ DealNames: [mine] });
    assert.equal(o.TotalCount, 0);
    await expectCode(c.DescribeOrders({ DealNames: [""] }), "InvalidParameterValue.NullDealNames");
  });
});

describe("renewal and pay-as-you-go", () => {
  it("InquiryPriceRenewDBInstance and RenewInstance: Period months more, at the book's price", async () => {
    const id = inst.A.id;
    const q = await c.InquiryPriceRenewDBInstance({ DBInstanceId: id, Period: 6 });
    assert.deepEqual({ o: q.OriginalPrice, p: q.Price }, { o: prepaidQuote(SPEC, 10, 6).OriginalPrice, p: prepaidQuote(SPEC, 10, 6).Price });
    const before = await expireOf(id);
    const r = await c.RenewInstance({ DBInstanceId: id, Period: 2 });
    assert.match(r.DealName, /^\d{20}$/);
    assert.equal(await expireOf(id), before + 2 * MONTH_S);
    const o = await c.DescribeOrders({ DealNames: [r.DealName] });
    assert.deepEqual(o.Deals[0].DBInstanceIdSet, [id]);
    const rec = (await ledger(d, id)).find((x) => x.DealName === r.DealName && x.Type === "order");
    assert.equal(rec.Action, "renew");
    assert.equal(rec.Price, prepaidQuote(SPEC, 10, 2).Price);
  });

  it("InquiryPriceUpgradeDBInstance: the monthly difference for the time left", async () => {
    const id = inst.B.id;
    const now = (await clockShow(d)).now;
    const left = (await expireOf(id)) - now;
    const q = await c.InquiryPriceUpgradeDBInstance({ DBInstanceId: id, Memory: 4, Storage: 20 });
    const diff = rate("cdb.pg.z1.4g", 20).monthly - rate(SPEC, 10).monthly;
    const want = (diff * left) / MONTH_S;
    assert.ok(Math.abs(q.OriginalPrice - want) <= 2, `prorated ${q.OriginalPrice} ~ ${want}`);
    const hourly = await c.InquiryPriceUpgradeDBInstance({ DBInstanceId: inst.C.id, Memory: 4, Storage: 20 });
    assert.equal(hourly.OriginalPrice, Math.round(rate("cdb.pg.z1.4g", 20).hourly));
    await expectCode(c.InquiryPriceUpgradeDBInstance({ DBInstanceId: id, Memory: 3, Storage: 20 }), "InvalidParameterValue.BadSpec");
  });

  it("pay-as-you-go instances cannot be renewed (OperationDenied.PostPaidPayModeError)", async () => {
    const id = inst.C.id;
    await expectCode(c.RenewInstance({ DBInstanceId: id, Period: 1 }), "OperationDenied.PostPaidPayModeError");
    await expectCode(c.InquiryPriceRenewDBInstance({ DBInstanceId: id, Period: 1 }), "OperationDenied.PostPaidPayModeError");
    await expectCode(c.SetAutoRenewFlag({ DBInstanceIdSet: [id], AutoRenewFlag: 1 }), "OperationDenied.PostPaidPayModeError");
    assert.equal((await attr(id)).ExpireTime, "", "no expiry");
  });

  it("bad input orders nothing and changes nothing", async () => {
    const id = inst.A.id;
    const before = await ledger(d, id);
    const exp = await expireOf(id);
    await expectCode(c.RenewInstance({ DBInstanceId: id, Period: 13 }), "InvalidParameterValue.InvalidParameterValueError");
    await expectCode(c.RenewInstance({ DBInstanceId: id, Period: 1, VoucherIds: ["v-1"] }), "InvalidParameterValue.InvalidParameterValueError");
    await expectCode(c.ModifyDBInstanceChargeType({ DBInstanceId: id, InstanceChargeType: "PREPAID", Period: 1 }),
      "InvalidParameterValue.InvalidParameterValueError");
    await expectCode(c.ModifyDBInstanceChargeType({ DBInstanceId: id, InstanceChargeType: "POSTPAID_BY_HOUR", Period: 2 }),
      "InvalidParameterValue.InvalidParameterValueError");
    await expectCode(c.ModifyDBInstanceChargeType({ DBInstanceId: id, InstanceChargeType: "PREPAID", Period: 13 }), "InvalidParameterValue");
    await expectOneOf(c.RenewInstance({ DBInstanceId: "postgres-zzzzzzzz", Period: 1 }), NOT_FOUND_CODES);
    assert.equal(await expireOf(id), exp);
    assert.deepEqual(await ledger(d, id), before);
  });
});

describe("business time (operator clock control)", () => {
  let bExpire;

  before(async () => {
    bExpire = await expireOf(inst.B.id);
    // 31 days: B (auto-renew) renews, D (manual, 1 month) expires, A (3 months) runs on
    await clockAdvance(d, 31 * 86400);
  });

  it("auto-renew at expiry: ExpireTime moves by its Period and an autorenew order is recorded", async () => {
    const id = inst.B.id;
    await waitFor(async () => (await expireOf(id)) > bExpire, { what: "B renewed itself" });
    assert.equal(await expireOf(id), bExpire + MONTH_S);
    assert.equal((await attr(id)).DBInstanceStatus, "running");
    const o = (await ledger(d, id)).filter((r) => r.Type === "order" && r.Action === "autorenew");
    assert.equal(o.length, 1);
    assert.equal(o[0].Price, prepaidQuote(SPEC, 10, 1).Price);
  });

  it("expiry without renewal isolates the instance", async () => {
    const i = await waitStatus(c, inst.D.id, "isolated", { allowed: ["running", "isolating", "isolated"] });
    assert.notEqual(i.IsolatedTime, "");
    assert.equal((await attr(inst.A.id)).DBInstanceStatus, "running", "A has three months");
  });

  it("a pay-as-you-go instance is charged for every hour it lived", async () => {
    const id = inst.C.id;
    const bills = await waitFor(async () => {
      const b = (await ledger(d, id)).filter((r) => r.Kind === "usage");
      return b.reduce((n, r) => n + r.Hours, 0) >= 31 * 24 ? b : null;
    }, { what: "31 days of hours billed" });
    const hours = bills.reduce((n, r) => n + r.Hours, 0);
    assert.equal(hours, 31 * 24);
    assert.equal(bills.reduce((n, r) => n + r.Amount, 0), hours * rate(SPEC, 10).hourly);
    for (const b of bills) assert.equal(b.To - b.From, b.Hours * HOUR_S);
  });

  it("ModifyDBInstanceChargeType: pay-as-you-go -> prepaid settles the hours and buys the period", async () => {
    const id = inst.C.id;
    await clockAdvance(d, 1800); // half an hour more: a started hour counts
    const now = (await clockShow(d)).now;
    const r = await c.ModifyDBInstanceChargeType({ DBInstanceId: id, InstanceChargeType: "PREPAID", Period: 6, AutoRenewFlag: 1 });
    const i = await attr(id);
    assert.equal(i.PayType, "prepaid");
    assert.equal(i.AutoRenew, 1);
    const exp = parseTime(i.ExpireTime);
    assert.ok(Math.abs(exp - (now + 6 * MONTH_S)) < 120, `expires six months from business now (${i.ExpireTime})`);
    const o = await c.DescribeOrders({ DealNames: [r.DealName] });
    assert.equal(o.Deals[0].PayMode, 1);
    const l = await ledger(d, id);
    assert.equal(l.find((x) => x.DealName === r.DealName && x.Type === "order").Price, prepaidQuote(SPEC, 10, 6).Price);
    assert.equal(l.filter((x) => x.Kind === "usage").reduce((n, x) => n + x.Hours, 0), 31 * 24 + 1);
    await c.SetAutoRenewFlag({ DBInstanceIdSet: [id], AutoRenewFlag: 0 });
  });

  it("ModifyDBInstanceChargeType: prepaid -> pay-as-you-go (Period 1), after which renewal is refused", async () => {
    const id = inst.A.id;
    const r = await c.ModifyDBInstanceChargeType({ DBInstanceId: id, InstanceChargeType: "POSTPAID_BY_HOUR", Period: 1 });
    const o = await c.DescribeOrders({ DealNames: [r.DealName] });
    assert.equal(o.Deals[0].PayMode, 0);
    const i = await attr(id);
    assert.equal(i.PayType, "postpaid");
    assert.equal(i.ExpireTime, "");
    await expectCode(c.RenewInstance({ DBInstanceId: id, Period: 1 }), "OperationDenied.PostPaidPayModeError");
    await clockAdvance(d, 2 * HOUR_S + 60);
    await waitFor(async () => (await ledger(d, id)).some((x) => x.Kind === "usage" && x.Hours === 2), { what: "A billed by the hour" });
  });

  it("an instance isolated at expiry comes back when renewed", async () => {
    const id = inst.D.id;
    const now = (await clockShow(d)).now;
    await c.RenewInstance({ DBInstanceId: id, Period: 1 });
    const i = await waitStatus(c, id, "running", { allowed: ["isolated", "disisolating", "running"] });
    assert.ok(Math.abs(parseTime(i.ExpireTime) - (now + MONTH_S)) < 120, `renewed from business now: ${i.ExpireTime}`);
    assert.equal(i.IsolatedTime, "");
  });

  it("expiry without renewal isolates, then the recycle retention destroys it", async () => {
    const id = inst.D.id;
    await clockAdvance(d, MONTH_S + 3600);
    await waitStatus(c, id, "isolated", { allowed: ["running", "isolating", "isolated"] });
    assert.ok(fs.existsSync(nodeDir(d, id)), "the data is kept while isolated");
    await clockAdvance(d, RETENTION_S + 60);
    await waitFor(async () => {
      try {
        await attr(id);
        return false;
      } catch (e) {
        return NOT_FOUND_CODES.includes(e.code);
      }
    }, { what: `${id} destroyed after the retention`, timeoutMs: 20000 });
    assert.ok(!fs.existsSync(nodeDir(d, id)), "node directory removed");
    // its orders stay in the history
    assert.ok((await ledger(d, id)).length >= 3);
  });
});
