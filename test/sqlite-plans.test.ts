import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../src/store/open.js";
import type { SqliteStore } from "../src/store/sqlite/store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("embedded store query plans", () => {
  // SQLite plans without statistics: a query can pick an index that walks every pending verification
  // (it did: a start scanned all of them by status, a check by `to` walked the service's history).
  it("the statements of a start, a check and a delivery each search an index; none scans or sorts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "verigate-plans-"));
    dirs.push(dir);
    const store = (await openStore({ kind: "sqlite", file: join(dir, "verigate.db") })) as SqliteStore;
    try {
      const plans = store.hotPathPlans();
      expect(Object.keys(plans).length).toBeGreaterThan(10);
      for (const [name, steps] of Object.entries(plans)) {
        expect(steps.length, name).toBeGreaterThan(0);
        for (const step of steps) {
          expect(step, `${name}: ${steps.join(" / ")}`).not.toMatch(/\bSCAN\b|TEMP B-TREE/);
        }
      }
      // The recipient's own rows, newest first, straight from the index.
      expect(plans.pendingByTo.join()).toContain("verifications_to_seq (service_sid=? AND to=?)");
      expect(plans.latestByTo.join()).toContain("verifications_to_seq (service_sid=? AND to=?)");
      expect(plans.claimDue.join()).toContain("outbox_due (run_at<?)");
    } finally {
      await store.close();
    }
  });
});
