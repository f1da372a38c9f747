import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, CHECK, OUTBOX, START, type TestGateway, startGateway } from "../support/gateway.js";
import { browserAvailable, launch, openConsole, signIn } from "./support.js";

// Search keeps its filters and page in the link (#/search?…): a reload, a shared link and back/forward show
// the same rows. Seeded: in "Default" 6 SMS (+14155553001…06, 01 and 03 approved) and 2 emails; in "Other"
// one SMS.

let gw: TestGateway;
let browser: Browser;
let otherSid: string;

async function verify(serviceSid: string, to: string, channel: string, approve: boolean) {
  const started = await gw.gql(START, { input: { serviceSid, to, channel } });
  if (started.errors) throw new Error(JSON.stringify(started.errors));
  await gw.app.dispatcher.idle();
  if (approve) {
    const code = (await gw.gql(OUTBOX, { to })).data!.devOutbox[0].code;
    const checked = await gw.gql(CHECK, { input: { serviceSid, to, code } });
    expect(checked.data?.checkVerification.verification.status).toBe("APPROVED");
  }
}

beforeAll(async () => {
  gw = await startGateway();
  for (let i = 1; i <= 6; i++) await verify(gw.defaultServiceSid, `+1415555300${i}`, "SMS", i === 1 || i === 3);
  await verify(gw.defaultServiceSid, "ada@example.com", "EMAIL", true);
  await verify(gw.defaultServiceSid, "bob@example.com", "EMAIL", false);
  const created = await gw.gql(`mutation($input: CreateServiceInput!) { createService(input: $input) { sid } }`, { input: { friendlyName: "Other" } });
  otherSid = created.data!.createService.sid;
  await verify(otherSid, "+14155553999", "SMS", false);
  if (browserAvailable) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const tos = (page: Page) => page.getByTestId("attempt-to").allTextContents();
const query = (page: Page) => new URLSearchParams(new URL(page.url()).hash.split("?")[1] ?? "");
const status = (page: Page, text: string) => page.getByTestId("search-status").filter({ hasText: text }).waitFor({ timeout: 5000 });

describe.skipIf(!browserAvailable)("search in the link", () => {
  it("keeps filters and page in the hash: reload, back and forward show the same rows", async () => {
    const c = await openConsole(browser, gw);
    const page = c.page;
    await page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Search" }).click();
    await status(page, "Page 1: 8 attempts");

    await page.getByLabel("Channel").selectOption("SMS");
    await page.getByRole("button", { name: "Search" }).click();
    await status(page, "Page 1: 6 attempts");
    expect(Object.fromEntries(query(page))).toEqual({ service: gw.defaultServiceSid, channel: "SMS" });
    await page.getByLabel("Rows per page").selectOption("5");
    await status(page, "Page 1: 5 attempts");
    const first = await tos(page);
    expect(first).toEqual(["+1415•••••06", "+1415•••••05", "+1415•••••04", "+1415•••••03", "+1415•••••02"]);
    await page.getByRole("button", { name: "Next page" }).click();
    await status(page, "Page 2: 1 attempt");
    expect(query(page).get("first")).toBe("5");
    expect(query(page).get("after")).toBeTruthy();
    expect(await tos(page)).toEqual(["+1415•••••01"]);

    // A reload: the same page of the same search, the form showing its filters.
    await page.reload();
    await status(page, "Page 2: 1 attempt");
    expect(await tos(page)).toEqual(["+1415•••••01"]);
    expect(await page.getByLabel("Channel").inputValue()).toBe("SMS");
    expect(await page.getByLabel("Rows per page").inputValue()).toBe("5");
    // "Previous page" still works after the reload (the cursors are in the link).
    await page.getByRole("button", { name: "Previous page" }).click();
    await status(page, "Page 1: 5 attempts");
    expect(await tos(page)).toEqual(first);

    // Back and forward walk the history of searches.
    await page.goBack();
    await status(page, "Page 2: 1 attempt");
    await page.goBack();
    await status(page, "Page 1: 5 attempts");
    await page.goBack();
    await status(page, "Page 1: 6 attempts");
    expect(await page.getByLabel("Rows per page").inputValue()).toBe("20");
    await page.goBack();
    await status(page, "Page 1: 8 attempts");
    expect(await page.getByLabel("Channel").inputValue()).toBe("");
    await page.goForward();
    await status(page, "Page 1: 6 attempts");
    expect(await page.getByLabel("Channel").inputValue()).toBe("SMS");

    // Approved only, with a date range: dates travel as ISO instants and come back into the form.
    await page.getByLabel("Outcome").selectOption("CONVERTED");
    await page.getByLabel("From").fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Search" }).click();
    await status(page, "Page 1: 2 attempts");
    expect(query(page).get("status")).toBe("CONVERTED");
    expect(query(page).get("from")).toBe(await page.evaluate(() => new Date("2020-01-01T00:00").toISOString()));
    await page.reload();
    await status(page, "Page 1: 2 attempts");
    expect(await tos(page)).toEqual(["+1415•••••03", "+1415•••••01"]);
    expect(await page.getByLabel("From").inputValue()).toBe("2020-01-01T00:00");
    expect(await page.getByLabel("Outcome").inputValue()).toBe("CONVERTED");
    await c.shot("search-url");

    // Another service picked on the search: the link follows it, from its first page.
    await page.getByTestId("service-picker").selectOption(otherSid);
    await expect.poll(() => query(page).get("service")).toBe(otherSid);
    await status(page, "Page 1: 0 attempts");
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });

  it("opens a shared link with filters directly (after signing in), with its service picked", async () => {
    const c = await openConsole(browser, gw, null);
    const page = c.page;
    const link = `${gw.url}/console/#/search?${new URLSearchParams({ service: gw.defaultServiceSid, to: "+14155553004" })}`;
    await page.goto(link);
    await signIn(page, ADMIN_KEY);
    await status(page, "Page 1: 1 attempt");
    expect(await tos(page)).toEqual(["+1415•••••04"]);
    expect(await page.getByLabel("Number or email").inputValue()).toBe("+14155553004");

    // A link to the other service: the picker follows the link.
    await page.goto(`${gw.url}/console/#/search?service=${otherSid}&channel=SMS`);
    await expect.poll(() => tos(page)).toEqual(["+1415•••••99"]);
    await status(page, "Page 1: 1 attempt");
    await expect.poll(() => page.getByTestId("service-picker").inputValue()).toBe(otherSid);

    // Emails, approved: a link without a service searches the picked one.
    await page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
    await expect.poll(() => query(page).get("service")).toBe(gw.defaultServiceSid);
    await page.goto(`${gw.url}/console/#/search?channel=EMAIL&status=CONVERTED`);
    await expect.poll(() => tos(page)).toEqual(["a•••@example.com"]);
    await status(page, "Page 1: 1 attempt");

    // A malformed filter in a link: the form's message, no request.
    await page.goto(`${gw.url}/console/#/search?sid=VE123`);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("32 hex digits");
    expect(await page.getByLabel("Verification sid").inputValue()).toBe("VE123");
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();

    // A service key opening a link to a service it does not see: told so, its own service shown.
    const key = (await gw.gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { serviceSid: otherSid, name: "k" } })).data!
      .createApiKey.key as string;
    const k = await openConsole(browser, gw, null);
    await k.page.goto(`${gw.url}/console/#/search?service=${gw.defaultServiceSid}&channel=SMS`);
    await signIn(k.page, key);
    await k.page.getByTestId("unknown-service").waitFor({ timeout: 5000 });
    await status(k.page, "Page 1: 1 attempt");
    expect(await tos(k.page)).toEqual(["+1415•••••99"]);
    expect(k.problems).toEqual([]);
    await k.context.close();
  });
});
