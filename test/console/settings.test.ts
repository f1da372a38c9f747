import { randomBytes } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { START, type TestGateway, startGateway } from "../support/gateway.js";
import { httpPeers } from "../support/peers.js";
import { browserAvailable, launch, openConsole } from "./support.js";

let gw: TestGateway;
let browser: Browser;
const peers = httpPeers();

beforeAll(async () => {
  // One try per delivery, so a refused test delivery is FAILED at once and can be retried from the console.
  gw = await startGateway({ env: { WEBHOOK_MAX_TRIES: "1" } });
  if (browserAvailable) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await peers.closeAll();
  await gw?.close();
});

const SETTINGS = `query($s: ID!) { service(sid: $s) { codeLength fraudGuard rateLimits { perTo { max interval } } geoPermissions { channel allowedCountries } testNumbers { to code } safeList } }`;

describe.skipIf(!browserAvailable)("settings", () => {
  it("creates a service and a key (shown once); the key sees only its service and is signed out when revoked; the API's validation message sits by its field", async () => {
    const admin = await openConsole(browser, gw);
    const page = admin.page;
    await page.goto(`${gw.url}/console/#/settings/service`);

    // A new service (admin only): the workspace lists it and selects it.
    await page.getByText("New service").click();
    const newService = page.getByRole("form", { name: "New service" });
    await newService.getByLabel("Friendly name").fill("Console Shop");
    await newService.getByRole("button", { name: "Create service" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Created Console Shop" }).count()).toBe(1);
    const picker = page.getByTestId("service-picker");
    await expect.poll(() => picker.locator("option:checked").textContent()).toBe("Console Shop");
    const serviceSid = await picker.inputValue();
    expect(serviceSid).toMatch(/^VA[0-9a-f]{32}$/);
    expect(serviceSid).not.toBe(gw.defaultServiceSid);

    // A bad setting: the API's own message (and field) next to the field.
    const form = page.getByRole("form", { name: "Service settings" });
    await expect.poll(() => form.getByLabel("Code length", { exact: true }).inputValue()).toBe("6");
    await form.getByLabel("Code length", { exact: true }).fill("3");
    await form.getByRole("button", { name: "Save" }).click();
    const apiAnswer = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, codeLength: 3 }) { sid } }`, { s: serviceSid });
    expect(apiAnswer.errors?.[0].extensions?.field).toBe("codeLength");
    await expect.poll(() => page.getByTestId("error-codeLength").textContent()).toBe(apiAnswer.errors?.[0].message);
    expect(await form.getByLabel("Code length", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    await admin.shot("settings-service");
    // Fixed, it saves.
    await form.getByLabel("Code length", { exact: true }).fill("8");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => form.getByRole("status").textContent()).toBe("Saved");
    expect(await page.getByTestId("error-codeLength").count()).toBe(0);
    expect((await gw.gql(SETTINGS, { s: serviceSid })).data?.service.codeLength).toBe(8);
    // An optional text set, then emptied: the setting is removed, not kept.
    const webOtp = form.getByLabel("WebOTP domain");
    const webOtpDomain = async () => (await gw.gql(`query($s: ID!) { service(sid: $s) { webOtpDomain } }`, { s: serviceSid })).data?.service.webOtpDomain;
    await webOtp.fill("shop.example.com");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(webOtpDomain).toBe("shop.example.com");
    await webOtp.fill("");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(webOtpDomain).toBeNull();
    const rpName = async () => (await gw.gql(`query($s: ID!) { service(sid: $s) { passkeys { rpName } } }`, { s: serviceSid })).data?.service.passkeys.rpName;
    await form.getByLabel("Relying party name").fill("Console Shop Passkeys");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(rpName).toBe("Console Shop Passkeys");
    await form.getByLabel("Relying party name").fill("");
    await form.getByRole("button", { name: "Save" }).click();
    await expect.poll(rpName).toBeNull();
    await expect.poll(() => form.getByRole("status").textContent()).toBe("Saved");

    // An API key of the new service: shown once, with a copy button and the warning.
    await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "API keys" }).click();
    await page.getByLabel("Key name").fill("console-test");
    await page.getByRole("button", { name: "Create API key" }).click();
    const shown = page.getByTestId("new-api-key");
    await shown.waitFor();
    const key = await shown.inputValue();
    expect(key.length).toBeGreaterThan(20);
    expect(await page.getByText("it is shown only this once").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Copy" }).count()).toBe(1);
    const row = page.getByTestId("api-keys").locator("tbody tr", { hasText: "console-test" });
    await row.waitFor();
    const keySid = await row.getAttribute("data-sid");
    await admin.shot("settings-keys");
    await page.getByRole("button", { name: "I have copied it" }).click();
    expect(await page.getByTestId("new-api-key").count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    // Another service's verification, which the key must not reach.
    const other = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550123", channel: "SMS" } });
    const otherSid = other.data!.startVerification.verification.sid as string;

    // A second browser (its own session) signed in with the key: its service only; no switching.
    const second = await openConsole(browser, gw, key);
    const options = await second.page.getByTestId("service-picker").locator("option").allTextContents();
    expect(options).toEqual(["Console Shop"]);
    // A direct link to the other service's verification: the API answers it as unknown (null) to this key,
    // and nothing of it reaches the page.
    await second.page.goto(`${gw.url}/console/#/verifications/${otherSid}`);
    const seen = await second.page.evaluate(async (sid) => {
      const key = sessionStorage.getItem("verigate.console.key");
      const r = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: "query($v: ID!) { verification(sid: $v) { sid to } }", variables: { v: sid } }),
      });
      return r.json();
    }, otherSid);
    expect(seen).toEqual({ data: { verification: null } });
    await second.page.getByRole("heading", { name: "Verification not found" }).waitFor({ timeout: 5000 });
    expect(await second.page.content()).not.toContain("4155550123");

    // Its keys tab follows the service's events: a key the first browser creates appears without a reload.
    await second.page.goto(`${gw.url}/console/#/settings/keys`);
    await second.page.getByTestId("api-keys").waitFor();
    expect(await second.page.getByTestId("api-keys").locator("tbody tr").count()).toBe(1);
    await page.getByLabel("Key name").fill("second-key");
    await page.getByRole("button", { name: "Create API key" }).click();
    await expect.poll(() => second.page.getByTestId("api-keys").locator("tbody tr").count(), { timeout: 5000 }).toBe(2);

    // Revoked in the first browser: the second one is back at sign-in with the refused message.
    // By keyboard: Enter on Revoke, the focus lands on the confirmation, Enter again.
    await page.getByTestId("api-keys").locator(`tr[data-sid="${keySid}"]`).getByRole("button", { name: "Revoke" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Yes, revoke");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("api-keys").locator(`tr[data-sid="${keySid}"]`).textContent()).toContain("Revoked");
    // No navigation: its open stream of the service's events ends with UNAUTHENTICATED.
    await second.page.getByTestId("signin-error").waitFor({ timeout: 5000 });
    expect(await second.page.getByTestId("signin-error").textContent()).toContain("refused");
    expect(await second.page.evaluate(() => sessionStorage.getItem("verigate.console.key"))).toBeNull();

    for (const c of [admin, second]) {
      expect(c.foreign).toEqual([]);
      expect(c.problems.filter((p) => !p.includes("401") && !p.includes("Unauthorized"))).toEqual([]);
    }
    await second.context.close();
    await admin.context.close();
  }, 60_000);

  it("webhooks: create (secret shown once), test-send, a failed delivery retried, disable; protection settings and a Fraud Guard block lifted", async () => {
    const receiver = await peers.start((_r, i) => ({ status: i === 0 ? 500 : 200 }));
    const c = await openConsole(browser, gw);
    const page = c.page;
    await page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
    await page.goto(`${gw.url}/console/#/settings/webhooks`);
    await page.getByText("New webhook").click();
    const create = page.getByRole("form", { name: "New webhook" });
    // A bad URL first: the API's message by the field.
    await create.getByLabel("URL").fill("ftp://example.com/x");
    await create.getByRole("button", { name: "Create webhook" }).click();
    await expect.poll(() => page.getByTestId("error-url").textContent()).toContain("Invalid parameter `url`");
    await create.getByLabel("URL").fill(`${receiver.url}/hooks`);
    await create.getByLabel("Name", { exact: true }).fill("Backend");
    await create.getByRole("button", { name: "Create webhook" }).click();
    const secret = page.getByTestId("new-webhook-secret");
    await secret.waitFor();
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    const card = page.getByTestId("webhooks").locator("li", { hasText: "Backend" });
    await card.getByRole("button", { name: "Deliveries" }).click();
    await card.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => card.getByRole("status").textContent()).toContain("queued");
    await gw.app.dispatcher.idle();
    await expect
      .poll(async () => {
        await card.getByRole("button", { name: "Refresh" }).click();
        return card.getByTestId("deliveries").locator("tbody tr").first().textContent();
      })
      .toContain("FAILED");
    expect(receiver.requests.map((r) => r.json.type)).toEqual(["webhook.test"]);
    await card.getByRole("button", { name: "Retry" }).click();
    await gw.app.dispatcher.idle();
    await expect
      .poll(async () => {
        await card.getByRole("button", { name: "Refresh" }).click();
        return card.getByTestId("deliveries").locator("tbody tr").first().textContent();
      })
      .toContain("DELIVERED");
    expect(receiver.requests).toHaveLength(2);
    await c.shot("settings-webhooks");
    await card.getByRole("button", { name: "Disable" }).click();
    await expect.poll(() => card.locator(".card-head").textContent()).toContain("Disabled");
    await card.getByRole("button", { name: "Delete" }).click();
    await card.getByRole("button", { name: "Yes, delete" }).click();
    await expect.poll(() => page.getByText("No webhooks yet.").count()).toBe(1);

    // Protection: a Fraud Guard block of this service, lifted from the console.
    const blockSid = `FB${randomBytes(16).toString("hex")}`;
    await gw.sql(`insert into fraud_blocks (sid, service_sid, prefix, reason, severity, level, blocked_until, date_created) values (?, ?, ?, ?, ?, ?, ?, ?)`, [
      blockSid,
      gw.defaultServiceSid,
      "+1415555",
      "velocity",
      1,
      "BASIC",
      Date.now() + 3_600_000,
      Date.now(),
    ]);
    await page.goto(`${gw.url}/console/#/settings/protection`);
    const blocks = page.getByTestId("fraud-blocks");
    await blocks.waitFor();
    expect(await blocks.locator("tbody tr").count()).toBe(1);
    await page.getByRole("form", { name: "Fraud Guard level" }).getByLabel("Level").selectOption("MAX");
    await page.getByRole("form", { name: "Fraud Guard level" }).getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("form", { name: "Fraud Guard level" }).getByRole("status").textContent()).toBe("Saved");

    const limits = page.getByRole("form", { name: "Rate limits" });
    const perTo = limits.getByRole("group", { name: "Per recipient" });
    while ((await perTo.getByRole("button", { name: /^Remove bucket/ }).count()) > 0) await perTo.getByRole("button", { name: /^Remove bucket/ }).first().click();
    await perTo.getByRole("button", { name: "Add bucket" }).click();
    await perTo.getByLabel("Per recipient: starts (bucket 1)").fill("3");
    await perTo.getByLabel("Per recipient: seconds (bucket 1)").fill("600");
    await limits.getByRole("button", { name: "Save rate limits" }).click();
    await expect.poll(() => limits.getByRole("status").textContent()).toBe("Saved");

    const geo = page.getByRole("form", { name: "Geo permissions" });
    await geo.getByLabel("Restrict SMS").check();
    await geo.getByLabel("Countries SMS may reach").fill("us, ca");
    await geo.getByRole("button", { name: "Save geo permissions" }).click();
    await expect.poll(() => geo.getByRole("status").textContent()).toBe("Saved");

    const tests = page.getByRole("form", { name: "Test numbers" });
    await tests.getByRole("button", { name: "Add test number" }).click();
    await tests.getByLabel("Number or email").fill("+15005550006");
    await tests.getByLabel("Code", { exact: true }).fill("123456");
    await tests.getByRole("button", { name: "Save test numbers" }).click();
    await expect.poll(() => tests.getByRole("status").textContent()).toBe("Saved");

    const safe = page.getByRole("form", { name: "Safe list" });
    await safe.getByLabel("Numbers that skip Fraud Guard and geo permissions").fill("not-a-number");
    await safe.getByRole("button", { name: "Save safe list" }).click();
    await expect.poll(() => page.getByTestId("error-safeList").textContent()).toContain("Invalid parameter `safeList");
    await safe.getByLabel("Numbers that skip Fraud Guard and geo permissions").fill("+14155550999");
    await safe.getByRole("button", { name: "Save safe list" }).click();
    await expect.poll(() => safe.getByRole("status").textContent()).toBe("Saved");
    await c.shot("settings-protection");

    await blocks.getByRole("button", { name: "Lift" }).click();
    await page.getByRole("button", { name: "Yes, lift" }).click();
    await expect.poll(() => page.getByText("No block is in force.").count()).toBe(1);
    const lifted = await gw.gql(`query($s: ID!) { fraudBlocks(serviceSid: $s, active: true) { nodes { sid } } }`, { s: gw.defaultServiceSid });
    expect(lifted.data?.fraudBlocks.nodes).toEqual([]);

    const saved = (await gw.gql(SETTINGS, { s: gw.defaultServiceSid })).data?.service;
    expect(saved).toMatchObject({
      fraudGuard: "MAX",
      rateLimits: { perTo: [{ max: 3, interval: 600 }] },
      geoPermissions: [{ channel: "SMS", allowedCountries: ["US", "CA"] }],
      testNumbers: [{ to: "+15005550006", code: "123456" }],
      safeList: ["+14155550999"],
    });

    // A phone-sized screen: the same tab, laid out in one column.
    await page.setViewportSize({ width: 375, height: 740 });
    await c.shot("settings-protection-phone");
    for (const tab of ["service", "keys", "webhooks", "protection"]) {
      await page.goto(`${gw.url}/console/#/settings/${tab}`);
      await page.locator(`nav.tabs a[aria-current="page"][href="#/settings/${tab}"]`).waitFor();
      await expect.poll(() => page.locator(".loading").count()).toBe(0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `#/settings/${tab} is wider than a phone`).toBeLessThanOrEqual(0);
    }
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  }, 60_000);
});
