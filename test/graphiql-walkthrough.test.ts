import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY, startGateway, type TestGateway } from "./support/gateway.js";

// The README's "A first verification, in GraphiQL", done as a new user does it: Debian's chromium opens
// GraphiQL on a fresh gateway, and every header and query is pasted from the README itself, with only the
// placeholders the README tells the user to replace (their admin key, the sids, the code) filled in.
const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.log(`${CHROMIUM} not found: the GraphiQL walkthrough test is skipped (apt-get install -y chromium)`);
}

/** The fenced blocks of the walkthrough section, in order: the header (json), then the five steps (graphql). */
export function walkthroughBlocks(readme: string): { header: string; steps: string[] } {
  const start = readme.indexOf("## A first verification, in GraphiQL");
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  const blocks = [...section.matchAll(/```(json|graphql)\n([\s\S]*?)\n\s*```/g)].map((m) => ({ lang: m[1], text: dedent(m[2]) }));
  const header = blocks.find((b) => b.lang === "json");
  const steps = blocks.filter((b) => b.lang === "graphql").map((b) => b.text);
  if (!header || steps.length !== 5) throw new Error("the README's GraphiQL walkthrough must have one json header block and five graphql steps");
  return { header: header.text, steps };
}

function dedent(text: string): string {
  const lines = text.split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n");
}

describe.skipIf(!available)("the README's GraphiQL walkthrough in a real browser", () => {
  let gateway: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  const { header, steps } = walkthroughBlocks(readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8"));

  beforeAll(async () => {
    gateway = await startGateway();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // The user pastes; the test pastes too (typing into GraphiQL's editor would add closing brackets).
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: localhost(gateway.url) });
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
  });

  /** The README names http://localhost:4000: WebAuthn refuses 127.0.0.1, so localhost is the address users open. */
  function localhost(url: string): string {
    return url.replace("127.0.0.1", "localhost");
  }

  async function openGraphiQL(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${localhost(gateway.url)}/graphql`);
    await page.waitForSelector(".graphiql-container .graphiql-query-editor .monaco-editor");
    return page;
  }

  async function paste(page: Page, editor: Locator, text: string): Promise<void> {
    await editor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.evaluate((t) => navigator.clipboard.writeText(t), text);
    await page.keyboard.press("Control+V");
    await page.keyboard.press("Control+Home");
  }

  async function pasteHeader(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Headers", exact: true }).click();
    await paste(page, page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor").first(), header.replace("vga_…your admin key…", ADMIN_KEY));
  }

  /** The response pane's text: Monaco renders spaces as U+00A0 and wraps long lines (JSON needs neither). */
  async function response(page: Page): Promise<string> {
    return (await page.locator(".graphiql-response").innerText()).replace(/\u00a0/g, " ").replace(/\n/g, "");
  }

  /** Pastes a query, presses Run and waits for an answer that contains `expected`. */
  async function run(page: Page, query: string, expected: string): Promise<string> {
    await paste(page, page.locator(".graphiql-query-editor .monaco-editor").first(), query);
    await page.getByRole("button", { name: /^Execute query/ }).click();
    await expect.poll(() => response(page), { timeout: 15_000 }).toContain(expected);
    return response(page);
  }

  it("shows the verification turn APPROVED live in the subscription pane", { timeout: 120_000 }, async () => {
    const page = await openGraphiQL();
    await pasteHeader(page);

    const services = JSON.parse(await run(page, steps[0], `"friendlyName"`));
    const serviceSid: string = services.data.services.nodes.find((s: { friendlyName: string }) => s.friendlyName === "Default").sid;
    const withService = (step: string) => step.replaceAll(`"VA…"`, `"${serviceSid}"`);

    const started = JSON.parse(await run(page, withService(steps[1]), `"clientToken"`));
    const verificationSid: string = started.data.startVerification.verification.sid;

    // Step 3: a second browser tab on the same address, with the header pasted again (as the README says).
    const live = await openGraphiQL();
    await pasteHeader(live);
    await run(live, steps[2].replaceAll(`"VE…"`, `"${verificationSid}"`), `"PENDING"`);

    await page.bringToFront();
    const outbox = JSON.parse(await run(page, steps[3], `"code"`));
    const code: string = outbox.data.devOutbox[0].code;
    const checked = JSON.parse(await run(page, withService(steps[4]).replaceAll(`"123456"`, `"${code}"`), `"checkVerification"`));
    expect(checked.data.checkVerification.verification).toEqual({ status: "APPROVED", valid: true });

    await live.bringToFront();
    await expect.poll(() => response(live), { timeout: 10_000 }).toContain(`"APPROVED"`);
    const shown = JSON.parse(await response(live));
    expect(shown.errors).toBeUndefined();
    expect(shown.data.verificationUpdated.status).toBe("APPROVED");
    mkdirSync(join(import.meta.dirname, "..", ".screenshots"), { recursive: true });
    await live.screenshot({ path: join(import.meta.dirname, "..", ".screenshots", "graphiql-approved.png") });
  });
});
