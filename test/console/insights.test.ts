import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { CHECK, OUTBOX, START, type TestGateway, startGateway } from "../support/gateway.js";
import { browserAvailable, launch, openConsole } from "./support.js";

// Insights and Search over a seeded set whose outcome the test decides: 6 SMS (4 US of which 3 approved,
// 2 French of which 1 approved) and 2 emails (1 approved): 8 started, 5 approved.

let gw: TestGateway;
let browser: Browser;
let serviceSid: string;
const sids: Record<string, string> = {};

async function verify(to: string, channel: string, approve: boolean) {
  const started = await gw.gql(START, { input: { serviceSid, to, channel } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  if (approve) {
    const code = (await gw.gql(OUTBOX, { to })).data!.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid, to, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  }
  sids[to] = started.data!.startVerification.verification.sid;
}

beforeAll(async () => {
  gw = await startGateway();
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Shop" } });
  serviceSid = created.data!.createService.sid;
  await verify("+14155552001", "SMS", true);
  await verify("+14155552002", "SMS", true);
  await verify("+14155552003", "SMS", true);
  await verify("+14155552004", "SMS", false);
  await verify("+33612345601", "SMS", true);
  await verify("+33612345602", "SMS", false);
  await verify("ada@example.com", "EMAIL", true);
  await verify("bob@example.com", "EMAIL", false);
  if (browserAvailable) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** A table's body as text cells, row by row. */
const rows = (page: Page, testId: string) =>
  page.getByTestId(testId).locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => (c.textContent ?? "").trim())));

async function openShop(page: Page, screen: "Insights" | "Search") {
  await page.getByTestId("service-picker").selectOption({ label: "Shop" });
  await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: screen }).click();
}

describe.skipIf(!browserAvailable)("insights", () => {
  it("shows the seeded counts: the funnel, by channel, by country, over time and delivery", async () => {
    const c = await openConsole(browser, gw);
    await openShop(c.page, "Insights");
    await c.page.getByTestId("total").filter({ hasText: "8" }).waitFor();
    expect(await c.page.getByTestId("total").textContent()).toBe("8");
    expect(await c.page.getByTestId("reached").textContent()).toBe("8");
    expect(await c.page.getByTestId("converted").textContent()).toBe("5");
    expect(await c.page.getByTestId("rate").textContent()).toBe("62.5%");
    expect(await rows(c.page, "funnel")).toEqual([
      ["Started", "8", "100.0%"],
      ["Delivered", "8", "100.0%"],
      ["Approved", "5", "62.5%"],
    ]);
    expect(await rows(c.page, "by-channel")).toEqual([
      ["SMS", "6", "4", "66.7%"],
      ["Email", "2", "1", "50.0%"],
    ]);
    expect(await rows(c.page, "by-country")).toEqual([
      ["United States (US)", "4", "3", "75.0%"],
      ["No country (email)", "2", "1", "50.0%"],
      ["France (FR)", "2", "1", "50.0%"],
    ]);
    // Over time: the last 7 days by day; all of it today.
    await c.page.getByText(/^Numbers/).click();
    const days = await rows(c.page, "over-time");
    expect(days).toHaveLength(1);
    expect(days[0].slice(1)).toEqual(["8", "5", "62.5%"]);
    await c.page.getByTestId("delivery").waitFor();
    expect(await rows(c.page, "delivery")).toEqual([
      ["SMS", "6", "0", "6", "0", "0", "0", "100.0%"],
      ["Email", "2", "0", "2", "0", "0", "0", "100.0%"],
    ]);
    expect(await c.page.locator("canvas").count()).toBe(5);
    await c.shot("insights");

    // The last 24 hours: hourly buckets, the same counts.
    await c.page.getByRole("button", { name: "Last 24 hours" }).click();
    await c.page.getByTestId("insights-period").filter({ hasText: "by hour" }).waitFor();
    await c.page.getByTestId("total").filter({ hasText: "8" }).waitFor();
    const hours = await rows(c.page, "over-time");
    expect(hours.reduce((n, r) => n + Number(r[1]), 0)).toBe(8);
    // A custom period that ended before the traffic: nothing.
    await c.page.getByLabel("From").fill("2020-01-01T00:00");
    await c.page.getByLabel("To").fill("2020-01-08T00:00");
    await c.page.getByRole("button", { name: "Apply" }).click();
    await c.page.getByTestId("total").filter({ hasText: "0" }).waitFor();
    expect(await c.page.getByTestId("rate").textContent()).toBe("—");
    // The start after the end: a message, no request.
    await c.page.getByLabel("From").fill("2020-02-01T00:00");
    await c.page.getByRole("button", { name: "Apply" }).click();
    expect(await c.page.getByRole("alert").textContent()).toContain("before the end");

    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });

  it("fits a phone-sized screen", async () => {
    const c = await openConsole(browser, gw, undefined, { width: 375, height: 740 });
    await openShop(c.page, "Insights");
    await c.page.getByTestId("total").filter({ hasText: "8" }).waitFor();
    await c.page.getByTestId("delivery").waitFor();
    const overflow = await c.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await c.shot("insights-phone");
    expect(c.problems).toEqual([]);
    await c.context.close();
  });
});

describe.skipIf(!browserAvailable)("a service key", () => {
  const keyOf = async (sid: string) => {
    const r = await gw.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { serviceSid: sid, name: "console" } });
    return r.data!.createApiKey.key as string;
  };

  it("sees its own service's insights and attempts, not another's", async () => {
    const own = await openConsole(browser, gw, await keyOf(serviceSid));
    await own.page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Insights" }).click();
    await own.page.getByTestId("total").filter({ hasText: "8" }).waitFor();
    expect(await own.page.getByTestId("converted").textContent()).toBe("5");
    await own.context.close();

    const other = await openConsole(browser, gw, await keyOf(gw.defaultServiceSid));
    expect(await other.page.getByTestId("service-picker").locator("option").allTextContents()).not.toContain("Shop");
    await other.page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Insights" }).click();
    await other.page.getByTestId("total").filter({ hasText: "0" }).waitFor();
    await other.page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Search" }).click();
    await other.page.getByTestId("search-status").filter({ hasText: "Page 1: 0 attempts" }).waitFor();
    expect(other.problems).toEqual([]);
    await other.context.close();
  });
});

describe.skipIf(!browserAvailable)("search", () => {
  it("filters the attempts log by number and channel, pages through it, masks numbers", async () => {
    const c = await openConsole(browser, gw);
    const page = c.page;
    await openShop(page, "Search");
    const status = page.getByTestId("search-status");
    await status.filter({ hasText: "Page 1: 8 attempts" }).waitFor();
    // Masked by default, newest first.
    const tos = () => page.getByTestId("attempt-to").allTextContents();
    expect((await tos())[0]).toBe("b•••@example.com");
    expect(await tos()).toContain("+1415•••••01");
    expect((await tos()).join(" ")).not.toContain("+14155552001");

    // Five a page: two pages, forward and back.
    await page.getByLabel("Rows per page").selectOption("5");
    await status.filter({ hasText: "Page 1: 5 attempts" }).waitFor();
    const first = await tos();
    await page.getByRole("button", { name: "Next page" }).click();
    await status.filter({ hasText: "Page 2: 3 attempts" }).waitFor();
    const second = await tos();
    expect(second).toEqual(["+1415•••••03", "+1415•••••02", "+1415•••••01"]);
    expect(await page.getByRole("button", { name: "Next page" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Previous page" }).click();
    await status.filter({ hasText: "Page 1: 5 attempts" }).waitFor();
    expect(await tos()).toEqual(first);

    // By number: that recipient's attempt, linked to its verification; the toggle shows the number.
    await page.getByLabel("Number or email").fill("+14155552001");
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "Page 1: 1 attempt" }).waitFor();
    await page.getByLabel("Show full numbers").check();
    expect(await tos()).toEqual(["+14155552001"]);
    expect(await page.getByTestId("attempts").getByRole("link").getAttribute("href")).toBe(`#/verifications/${sids["+14155552001"]}`);

    // By channel (the number cleared): the two emails.
    await page.getByLabel("Number or email").fill("");
    await page.getByLabel("Channel").selectOption("EMAIL");
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "Page 1: 2 attempts" }).waitFor();
    expect(await tos()).toEqual(["bob@example.com", "ada@example.com"]);
    // And approved only.
    await page.getByLabel("Outcome").selectOption("CONVERTED");
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "Page 1: 1 attempt" }).waitFor();
    expect(await tos()).toEqual(["ada@example.com"]);
    await page.getByLabel("Show full numbers").uncheck();
    await c.shot("search");

    // By verification sid, and a malformed one refused before any request.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Verification sid").fill(sids["+33612345601"]);
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "Page 1: 1 attempt" }).waitFor();
    expect(await tos()).toEqual(["+3361•••••01"]);
    await page.getByLabel("Verification sid").fill("VE123");
    await page.getByRole("button", { name: "Search" }).click();
    expect(await page.getByRole("alert").textContent()).toContain("32 hex digits");

    // By country (lower case is fine): the two French numbers.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByLabel("Country").fill("fr");
    await page.getByRole("button", { name: "Search" }).click();
    await status.filter({ hasText: "Page 1: 2 attempts" }).waitFor();
    expect(await tos()).toEqual(["+3361•••••02", "+3361•••••01"]);

    // A row's link opens the verification's screen.
    await page.getByRole("button", { name: "Clear" }).click();
    await status.filter({ hasText: "Page 1: 5 attempts" }).waitFor();
    await page.getByTestId("attempts").getByRole("link").first().click();
    expect(page.url()).toContain(`#/verifications/${sids["bob@example.com"]}`);

    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });
});
