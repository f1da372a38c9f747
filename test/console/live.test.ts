import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page, WebSocketRoute } from "playwright-core";
import { ADMIN_KEY, CHECK, OUTBOX, START, type TestGateway, startGateway } from "../support/gateway.js";
import { browserAvailable, launch, openConsole, signIn } from "./support.js";

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

/** Signs in and waits until the page has asked the gateway for `serviceEvents` of the service. */
async function openLive(viewport?: { width: number; height: number }) {
  const c = await openConsole(browser, gw, null, viewport);
  const frames: string[] = [];
  c.page.on("websocket", (ws) => ws.on("framesent", (f) => frames.push(String(f.payload))));
  await signIn(c.page, ADMIN_KEY);
  await c.page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
  await expect.poll(() => frames.some((f) => f.includes('"subscribe"') && f.includes("serviceEvents") && f.includes(gw.defaultServiceSid))).toBe(true);
  // The gateway looks the service up before it follows it.
  await c.page.waitForTimeout(250);
  return c;
}

async function start(to: string, channel = "SMS"): Promise<string> {
  const r = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to, channel } });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.startVerification.verification.sid as string;
}

const rowsOf = (page: Page, sid: string) => page.locator(`[data-testid="live-row"][data-sid="${sid}"]`);

describe.skipIf(!browserAvailable)("live traffic and verification detail", () => {
  it("shows a started verification within a second, pauses, filters, and opens its timeline that reaches APPROVED live", async () => {
    const c = await openLive();
    const { page } = c;
    await page.getByRole("heading", { name: "Live traffic" }).waitFor();

    const to = "+14155550123";
    const sid = await start(to);
    await rowsOf(page, sid).first().waitFor({ timeout: 1000 });
    // Masked by default; the full number after the toggle.
    const toCell = rowsOf(page, sid).first().locator('td[data-label="To"]');
    expect(await toCell.textContent()).toBe("+1415•••0123");
    expect(await page.getByTestId("live-table").textContent()).not.toContain(to);
    await page.getByRole("button", { name: "Show numbers" }).click();
    expect(await toCell.textContent()).toBe(to);
    await page.getByRole("button", { name: "Hide numbers" }).click();
    expect(await toCell.textContent()).toBe("+1415•••0123");
    // The table is accessible: a caption and column headers.
    expect(await page.locator("table caption").textContent()).toContain("newest first");
    expect(await page.locator('th[scope="col"]').count()).toBe(7);

    // Paused: new events are held and counted, not shown; resumed: they appear.
    await page.getByRole("button", { name: "Pause" }).click();
    const held = await start("+14155550124", "CALL");
    await expect.poll(() => page.getByTestId("live-status").textContent()).toMatch(/Paused: [1-9]\d* new event/);
    expect(await rowsOf(page, held).count()).toBe(0);
    await page.getByRole("button", { name: /^Resume/ }).click();
    await rowsOf(page, held).first().waitFor({ timeout: 1000 });

    // Filter by channel: CALL keeps the second verification only.
    await page.getByLabel("Channel").selectOption("CALL");
    await expect.poll(() => rowsOf(page, sid).count()).toBe(0);
    expect(await rowsOf(page, held).count()).toBeGreaterThan(0);
    await page.getByLabel("Channel").selectOption("");
    await expect.poll(() => rowsOf(page, sid).count()).toBeGreaterThan(0);
    await c.shot("live");

    // The row opens its verification.
    await rowsOf(page, sid).first().getByRole("link", { name: sid }).click();
    expect(page.url()).toContain(`#/verifications/${sid}`);
    await expect.poll(() => page.getByTestId("verification-status").textContent()).toBe("PENDING");
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("Started");
    expect(await page.getByTestId("verification-to").textContent()).toBe("+1415•••0123");
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));

    // The code, read from the dev outbox, checked through the API: the timeline follows without a reload.
    await gw.app.dispatcher.idle();
    const outbox = await gw.gql(OUTBOX, { to });
    const code = outbox.data!.devOutbox.find((m: { verificationSid: string }) => m.verificationSid === sid).code as string;
    const wrong = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code: code === "000000" ? "111111" : "000000" } });
    expect(wrong.data!.checkVerification.verification.valid).toBe(false);
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("Check: wrong code");
    expect(await page.getByTestId("verification-status").textContent()).toBe("PENDING");
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, verificationSid: sid, code } });
    expect(checked.data!.checkVerification.verification.status).toBe("APPROVED");
    await expect.poll(() => page.getByTestId("verification-status").textContent()).toBe("APPROVED");
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("Approved");
    expect(await page.getByTestId("timeline").textContent()).toContain("Receipt: SENT");
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.getByTestId("timeline").textContent()).not.toContain(to);
    await page.getByRole("button", { name: "Show number" }).click();
    expect(await page.getByTestId("verification-to").textContent()).toBe(to);
    await page.getByRole("button", { name: "Hide number" }).click();
    await c.shot("verification");

    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });

  it("opens with the service's latest events: traffic from before the screen opened is there, newest first", async () => {
    const earlier = await start("+14155550126");
    const later = await start("+14155550127", "CALL");
    const c = await openLive();
    const { page } = c;
    await rowsOf(page, earlier).first().waitFor({ timeout: 2000 });
    await rowsOf(page, later).first().waitFor({ timeout: 2000 });
    const order = await page.locator('[data-testid="live-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-sid")));
    expect(order.indexOf(later)).toBeLessThan(order.indexOf(earlier));
    // Each event once: the replay and the live stream do not repeat one another.
    const ids = await page.locator('[data-testid="live-row"]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute("data-sid")} ${r.querySelector('td[data-label="Event"]')?.textContent}`));
    expect(ids.filter((id) => id === `${later} verification.started`)).toHaveLength(1);
    // Live events still come after the replay.
    const next = await start("+14155550128");
    await rowsOf(page, next).first().waitFor({ timeout: 1000 });
    expect(c.problems).toEqual([]);
    await c.context.close();
  });

  it("after a dropped socket it reconnects and replays the latest events, each still shown once", async () => {
    const c = await openConsole(browser, gw, null);
    const { page } = c;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/graphql/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    });
    await signIn(page, ADMIN_KEY);
    await page.getByTestId("service-picker").selectOption(gw.defaultServiceSid);
    await page.getByRole("heading", { name: "Live traffic" }).waitFor();
    await expect.poll(() => sockets.length).toBeGreaterThan(0);
    await page.waitForTimeout(300);
    const before = await start("+14155550129");
    await rowsOf(page, before).first().waitFor({ timeout: 2000 });
    // The network drops the socket: the client opens a new one and subscribes again, with its replay.
    const opened = sockets.length;
    await sockets[sockets.length - 1].close({ code: 1012, reason: "service restart" });
    await expect.poll(() => sockets.length, { timeout: 5000 }).toBeGreaterThan(opened);
    await page.waitForTimeout(500);
    const after = await start("+14155550130");
    await rowsOf(page, after).first().waitFor({ timeout: 2000 });
    const started = await page
      .locator('[data-testid="live-row"]')
      .evaluateAll((rows) => rows.map((r) => `${r.getAttribute("data-sid")} ${r.querySelector('td[data-label="Event"]')?.textContent}`));
    expect(started.filter((id) => id === `${before} verification.started`)).toHaveLength(1);
    expect(started.filter((id) => id === `${after} verification.started`)).toHaveLength(1);
    expect(new Set(started).size).toBe(started.length);
    await c.context.close();
  });

  it("is usable at phone width (375×740): rows stack, nothing overflows sideways", async () => {
    const c = await openLive({ width: 375, height: 740 });
    const { page } = c;
    const sid = await start("+14155550125");
    await rowsOf(page, sid).first().waitFor({ timeout: 1000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await expect.poll(() => rowsOf(page, sid).first().getByRole("link", { name: sid }).isVisible()).toBe(true);
    await c.shot("live-phone");
    expect(c.foreign).toEqual([]);
    expect(c.problems).toEqual([]);
    await c.context.close();
  });
});
