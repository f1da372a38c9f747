import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { ADMIN_KEY, type TestGateway, startGateway } from "../support/gateway.js";
import { browserAvailable, launch, openConsole } from "./support.js";

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gw = await startGateway();
  if (browserAvailable) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe("the console is served by the gateway", () => {
  it("serves the page with a strict policy and its hashed assets with long-cache headers", async () => {
    const page = await fetch(`${gw.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const policy = page.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain("unsafe-inline");
    expect(policy).toContain("frame-ancestors 'none'");
    const html = await page.text();
    const assets = [...html.matchAll(/\/console\/assets\/[\w.-]+/g)].map((m) => m[0]);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const r = await fetch(`${gw.url}${asset}`);
      expect(r.status).toBe(200);
      expect(r.headers.get("cache-control")).toContain("immutable");
    }
    expect((await fetch(`${gw.url}/console/assets/..%2f..%2fpackage.json`)).status).toBe(404);
  });
});

describe.skipIf(!browserAvailable)("signing in", () => {
  it("refuses a wrong key with a clear message and keeps the key out of cookies and URLs", async () => {
    const c = await openConsole(browser, gw, null);
    await c.page.getByLabel("Admin key or service API key").fill("vga_not_a_key_0123456789abcdefghij");
    await c.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => c.page.getByTestId("signin-error").textContent()).toContain("refused");
    await c.shot("signin-refused");
    await c.page.getByLabel("Admin key or service API key").fill(ADMIN_KEY);
    await c.page.getByRole("button", { name: "Sign in" }).click();
    await c.page.getByRole("navigation", { name: "Screens" }).waitFor();
    expect(await c.context.cookies()).toEqual([]);
    expect(c.page.url()).not.toContain(ADMIN_KEY);
    expect(await c.page.evaluate(() => sessionStorage.getItem("verigate.console.key"))).toBe(ADMIN_KEY);
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });
});
