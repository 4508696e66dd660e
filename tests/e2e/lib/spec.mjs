// spec.mjs - the API index the table-driven tests walk: every action with
// its inputs, from $PGFLEET_API_SPEC, else the project's api/pgfleet-api.json
// (the file the action table is generated from), else the reference
// inventory shared/reference/api-spec.json beside the repository.
// loadSpec() returns null when none is reachable; callers skip then.
//
// minimalParams() builds the smallest parameter set that satisfies an
// action's schema (required fields only, first enum value, range minimum),
// used to show that a valid request gets past validation.

import fs from "node:fs";
import path from "node:path";

import { REPO_ROOT } from "./daemon.mjs";

const CANDIDATES = [
  process.env.PGFLEET_API_SPEC,
  path.join(REPO_ROOT, "api/pgfleet-api.json"),
  path.join(REPO_ROOT, "../shared/reference/api-spec.json"),
  "/work/shared/reference/api-spec.json",
].filter(Boolean);

let cached;

/** {actions: {Name: {inputs, rate_limit_per_s, ...}}, types: {...}} or null. */
export function loadSpec() {
  if (cached !== undefined) return cached;
  cached = null;
  for (const p of CANDIDATES) {
    try {
      const s = JSON.parse(fs.readFileSync(p, "utf8"));
      if (s.actions && s.types) {
        cached = s;
        cached.path = p;
        break;
      }
    } catch {
      // try the next place
    }
  }
  return cached;
}

export const SCALARS = new Set(["String", "Integer", "Float", "Boolean", "Timestamp"]);

function scalarValue(f) {
  if (f.enum && f.enum.length) return f.enum[0];
  switch (f.type) {
    case "Integer":
      if (f.range && typeof f.range.min === "number") return f.range.min;
      return 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return false;
    case "Timestamp":
      return "2024-01-02 03:04:05";
    default: {
      // range of a string = its length (api/pgfleet-api.json conventions)
      const min = f.range && typeof f.range.min === "number" ? f.range.min : 1;
      const max = f.range && typeof f.range.max === "number" ? f.range.max : 64;
      const len = Math.max(min, Math.min(5, max));
      return "e2e-x".padEnd(len, "x").slice(0, len);
    }
  }
}

function fieldValue(spec, f, depth) {
  let v;
  if (SCALARS.has(f.type)) {
    v = scalarValue(f);
  } else {
    const t = spec.types[f.type];
    v = t && depth < 4 ? objectValue(spec, t.fields, depth + 1) : {};
  }
  return f.array ? [v] : v;
}

function objectValue(spec, fields, depth) {
  const o = {};
  for (const f of fields) if (f.required) o[f.name] = fieldValue(spec, f, depth);
  return o;
}

/** Required inputs of `action` with schema-valid values. */
export function minimalParams(spec, action) {
  return objectValue(spec, spec.actions[action].inputs, 0);
}

export function requiredInputs(spec, action) {
  return spec.actions[action].inputs.filter((f) => f.required).map((f) => f.name);
}
