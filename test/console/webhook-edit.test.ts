import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, startGateway } from "../support/gateway.js";
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

const CREATE = `mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { sid } } }`;
const READ = `query($s: ID!) { webhooks(serviceSid: $s, first: 10) { nodes { sid url friendlyName eventTypes format enabled } } }`;

describe.skipIf(!browserAvailable)("settings: editing a webhook", () => {
  it("edits a webhook's URL, event types, format and enabled flag through updateWebhook; a bad URL shows the API's message by the field", async () => {
    const created = await gw.gql(CREATE, {
      i: { serviceSid: gw.defaultServiceSid, url: "https://hooks.example.com/old", friendlyName: "Backend", eventTypes: ["verification.*"] },
    });
    const sid = created.data!.createWebhook.webhook.sid as string;

    const c = await openConsole(browser, gw);
    const page = c.page;
    await page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
    await page.goto(`${gw.url}/console/#/settings/webhooks`);
    const card = page.getByTestId("webhooks").locator(`li[data-sid="${sid}"]`);
    await card.getByRole("button", { name: "Edit" }).click();
    const form = card.getByRole("form", { name: "Edit Backend" });
    // The editor opens with the webhook's values, the focus on its first field.
    expect(await form.getByLabel("URL").inputValue()).toBe("https://hooks.example.com/old");
    expect(await form.getByLabel("Event types").inputValue()).toBe("verification.*");
    expect(await form.getByLabel("Format").inputValue()).toBe("STANDARD");
    expect(await form.getByLabel("Enabled").isChecked()).toBe(true);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("f-edit-url");

    // A bad URL: the API's own message, by the URL field (and the "New webhook" form's ids are not reused).
    await form.getByLabel("URL").fill("ftp://hooks.example.com/x");
    await form.getByRole("button", { name: "Save webhook" }).click();
    const apiAnswer = await gw.gql(`mutation($i: UpdateWebhookInput!) { updateWebhook(input: $i) { sid } }`, { i: { sid, url: "ftp://hooks.example.com/x" } });
    expect(apiAnswer.errors?.[0].extensions?.field).toBe("url");
    await expect.poll(() => form.getByTestId("error-edit-url").textContent()).toBe(apiAnswer.errors?.[0].message);
    expect(await form.getByLabel("URL").getAttribute("aria-invalid")).toBe("true");
    expect(await form.getByLabel("URL").getAttribute("aria-describedby")).toBe("error-edit-url");
    await c.shot("settings-webhook-edit-refused");
    // Nothing was saved.
    expect((await gw.gql(READ, { s: gw.defaultServiceSid })).data?.webhooks.nodes[0].url).toBe("https://hooks.example.com/old");

    // Fixed: a new URL, event types, the Twilio format and disabled; saved, and the card shows it.
    await form.getByLabel("URL").fill("https://hooks.example.com/new");
    await form.getByLabel("Event types").fill("verification.approved, delivery.*");
    await form.getByLabel("Format").selectOption("TWILIO");
    await form.getByLabel("Enabled").uncheck();
    await form.getByRole("button", { name: "Save webhook" }).click();
    await expect.poll(() => form.getByRole("status").textContent()).toBe("Saved");
    expect(await form.getByTestId("error-edit-url").count()).toBe(0);
    expect((await gw.gql(READ, { s: gw.defaultServiceSid })).data?.webhooks.nodes).toEqual([
      { sid, url: "https://hooks.example.com/new", friendlyName: "Backend", eventTypes: ["verification.approved", "delivery.*"], format: "TWILIO", enabled: false },
    ]);
    await expect.poll(() => card.textContent()).toContain("https://hooks.example.com/new");
    expect(await card.textContent()).toContain("verification.approved, delivery.*");
    expect(await card.locator(".card-head").textContent()).toContain("Disabled");
    await c.shot("settings-webhook-edit");

    // A bad event type: the API's message by that field. Then Close hands the focus back to Edit.
    await form.getByLabel("Event types").fill("no.such.event");
    await form.getByRole("button", { name: "Save webhook" }).click();
    await expect.poll(() => form.getByTestId("error-edit-eventTypes").count()).toBe(1);
    expect(await form.getByTestId("error-edit-eventTypes").textContent()).toContain("eventTypes");
    await form.getByRole("button", { name: "Close" }).click();
    expect(await card.getByRole("form").count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Edit");
    expect((await gw.gql(READ, { s: gw.defaultServiceSid })).data?.webhooks.nodes[0].eventTypes).toEqual(["verification.approved", "delivery.*"]);

    // Phone width: the editor fits.
    await card.getByRole("button", { name: "Edit" }).click();
    await page.setViewportSize({ width: 375, height: 740 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await c.shot("settings-webhook-edit-phone");

    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  }, 60_000);
});
