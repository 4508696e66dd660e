// billing.mjs - helpers of the billing and spec tests (30-31): the
// operator's clock control and ledger view (pgfleetd subcommands on the
// daemon's data directory, never the public API), the business clock's
// time of day, and a price book the tests control.
//
// Built on the harness (lib/daemon.mjs, lib/instances.mjs), which it does
// not change.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export const MONTH_S = 30 * 86400;
export const HOUR_S = 3600;

/** A price book in the config's shape (docs/CONFIG.md); amounts in cents. */
export const BOOK = {
  Currency: "USD",
  specs: [
    { SpecCode: "cdb.pg.z1.2g", Monthly: 10000, Hourly: 20 },
    { SpecCode: "cdb.pg.z1.4g", Monthly: 20000, Hourly: 40 },
  ],
  default: { MonthlyPerCore: 3000, MonthlyPerGbMemory: 2000, HourlyPerCore: 5, HourlyPerGbMemory: 3.5 },
  storage: { MonthlyPerGb: 100, HourlyPerGb: 0.5 },
  discounts: [
    { Period: 6, Percent: 90 },
    { Period: 12, Percent: 80 },
  ],
};

/** The book's monthly and hourly rate of one instance (cents, unrounded). */
export function rate(spec, storage, { cpu = 0, memoryMb = 0 } = {}) {
  const row = BOOK.specs.find((s) => s.SpecCode === spec);
  const monthly = row ? row.Monthly : BOOK.default.MonthlyPerCore * cpu + (BOOK.default.MonthlyPerGbMemory * memoryMb) / 1024;
  const hourly = row ? row.Hourly : BOOK.default.HourlyPerCore * cpu + (BOOK.default.HourlyPerGbMemory * memoryMb) / 1024;
  return { monthly: monthly + BOOK.storage.MonthlyPerGb * storage, hourly: hourly + BOOK.storage.HourlyPerGb * storage };
}

export function discount(months) {
  let best = 0;
  let pct = 100;
  for (const d of BOOK.discounts) if (d.Period <= months && d.Period > best) [best, pct] = [d.Period, d.Percent];
  return pct;
}

/** {OriginalPrice, Price} of a prepaid purchase, rounded like the daemon (half up, once). */
export function prepaidQuote(spec, storage, months, count = 1) {
  const orig = rate(spec, storage).monthly * months * count;
  return { OriginalPrice: Math.round(orig), Price: Math.round((orig * discount(months)) / 100) };
}

async function pgfleetd(d, args) {
  const { stdout } = await execFileP(d.binary, ["--data-dir", d.dataDir, ...args], { timeout: 20000 });
  return JSON.parse(stdout.trim().split("\n").filter(Boolean).pop());
}

/** `pgfleetd --data-dir DIR clock-advance SECONDS` -> {offset, now, nowText},
 *  once the running daemon has taken the new offset (it logs "business clock
 *  offset N s" on the supervisor pass that reads it). */
export async function clockAdvance(d, seconds) {
  const r = await pgfleetd(d, ["clock-advance", String(seconds)]);
  const line = `business clock offset ${r.offset} s`;
  const deadline = Date.now() + 10000;
  while (!d.stderr.includes(line)) {
    assert.ok(Date.now() < deadline, `the daemon did not take clock offset ${r.offset} within 10 s`);
    await new Promise((res) => setTimeout(res, 20));
  }
  return r;
}

/** `pgfleetd --data-dir DIR clock-show` -> {offset, now, nowText}. */
export function clockShow(d) {
  return pgfleetd(d, ["clock-show"]);
}

/** Every order and bill of instance `id` (all when omitted), oldest first. */
export function ledger(d, id) {
  return pgfleetd(d, id ? ["billing-show", id] : ["billing-show"]);
}

/** "HH:MM:SS" of unix time `t` in this process's (and the daemon's) time zone. */
export function timeOfDay(t) {
  const dt = new Date(t * 1000);
  return [dt.getHours(), dt.getMinutes(), dt.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** "YYYY-MM-DD HH:MM:SS" (local) -> unix seconds. */
export function parseTime(s) {
  assert.match(s, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, `a time like 2024-01-01 00:00:00, got ${JSON.stringify(s)}`);
  return Math.floor(new Date(s.replace(" ", "T")).getTime() / 1000);
}
