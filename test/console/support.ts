import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { ADMIN_KEY, type TestGateway } from "../support/gateway.js";

/** Debian's chromium, headless, as the passkey tests drive it. */
export const CHROMIUM = "/usr/bin/chromium";
export const browserAvailable = existsSync(CHROMIUM);
if (!browserAvailable) {
  if (process.env.CI === "true") throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  console.log(`${CHROMIUM} not found: the console browser tests are skipped (apt-get install -y chromium)`);
}

/** Screenshots of each screen for reviewers (git-ignored). */
export const SHOTS = join(import.meta.dirname, "..", "..", ".screenshots", "console");

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Requests the page made to any other origin (the console must make none). */
  foreign: string[];
  /** Console errors and CSP violations the page reported. */
  problems: string[];
  shot(name: string): Promise<void>;
}

/** A fresh browser context (its own sessionStorage) with the console open and signed in with `key`. */
export async function openConsole(browser: Browser, gw: TestGateway, key: string | null = ADMIN_KEY, viewport = { width: 1280, height: 860 }): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const origin = new URL(gw.url).origin;
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol.startsWith("http") && u.origin !== origin) foreign.push(r.url());
    if (u.protocol.startsWith("ws") && u.host !== new URL(origin).host) foreign.push(r.url());
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${gw.url}/console/`);
  if (key) await signIn(page, key);
  return {
    page,
    context,
    foreign,
    problems,
    async shot(name) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    },
  };
}

export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel("Admin key or service API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Screens" }).waitFor();
}
