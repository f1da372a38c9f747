import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHECK, OUTBOX, START, type TestGateway, startGateway } from "../support/gateway.js";
import { browserAvailable, launch, openConsole } from "./support.js";

// Insights follow the service live: its events (serviceEvents) re-read the numbers, at most once a second.

let gw: TestGateway;
let browser: Browser;
let serviceSid: string;

beforeAll(async () => {
  gw = await startGateway();
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Live shop" } });
  serviceSid = created.data!.createService.sid;
  if (browserAvailable) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

describe.skipIf(!browserAvailable)("insights, live", () => {
  it("a verification started and approved through the API changes the numbers without a reload", async () => {
    const c = await openConsole(browser, gw);
    const page = c.page;
    await page.getByTestId("service-picker").selectOption({ label: "Live shop" });
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Insights" }).click();
    await page.getByTestId("total").filter({ hasText: "0" }).waitFor();
    expect(await text(page, "rate")).toBe("—");
    // Proof that the page is never reloaded: a mark on the window survives to the end.
    await page.evaluate(() => Object.assign(window, { stillThisPage: true }));
    // Count the statistics reads the page makes.
    const reads: number[] = [];
    page.on("request", (r) => {
      // urql sends short queries as GET (the operation in the URL), longer ones as POST.
      if (new URL(r.url()).pathname === "/graphql" && `${r.url()} ${r.postData() ?? ""}`.includes("InsightsStats")) reads.push(Date.now());
    });

    const to = "+14155554001";
    const started = await gw.gql(START, { input: { serviceSid, to, channel: "SMS" } });
    expect(started.errors).toBeUndefined();
    await gw.app.dispatcher.idle();
    await expect.poll(() => text(page, "total"), { timeout: 5000 }).toBe("1");
    await expect.poll(() => text(page, "reached"), { timeout: 5000 }).toBe("1");
    expect(await text(page, "converted")).toBe("0");
    expect(await text(page, "rate")).toBe("0.0%");

    const code = (await gw.gql(OUTBOX, { to })).data!.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid, to, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
    await expect.poll(() => text(page, "converted"), { timeout: 5000 }).toBe("1");
    expect(await text(page, "rate")).toBe("100.0%");
    await expect.poll(() => page.getByTestId("funnel").locator("tbody tr").last().textContent()).toBe("Approved1100.0%");
    await expect.poll(() => page.getByTestId("delivery").locator("tbody tr").count()).toBe(1);
    expect(await page.getByTestId("insights-updated").count()).toBe(1);
    await c.shot("insights-live");

    // A burst (ten starts, each with its sends: dozens of events) is read at most once a second.
    const burstFrom = Date.now();
    reads.length = 0;
    for (let i = 0; i < 10; i++) await gw.gql(START, { input: { serviceSid, to: `+1415555410${i}`, channel: "SMS" } });
    await gw.app.dispatcher.idle();
    await expect.poll(() => text(page, "total"), { timeout: 5000 }).toBe("11");
    await new Promise((r) => setTimeout(r, 1500));
    const span = Date.now() - burstFrom;
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThanOrEqual(Math.ceil(span / 1000) + 1);
    // The page spaces its reads ≥ 1 s apart; this process sees them through the DevTools protocol, whose events
    // can lag under load, so the bound keeps a margin (an unthrottled page reads within milliseconds).
    for (let i = 1; i < reads.length; i++) expect(reads[i] - reads[i - 1]).toBeGreaterThanOrEqual(500);

    expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  }, 30_000);
});
