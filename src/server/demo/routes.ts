import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { pagePolicy } from "../csp.js";

const here = dirname(fileURLToPath(import.meta.url));
// The browser library's ES modules, served as they ship (no CDN, works air-gapped).
const vendor = join(dirname(createRequire(import.meta.url).resolve("@simplewebauthn/browser")), "..", "esm");

/**
 * The page's scripts are its own files (no inline script); its one inline <style> and its calls to
 * /graphql (fetch and graphql-ws) are all it needs. No site may frame it.
 */
const contentSecurityPolicy = pagePolicy();

const files: Record<string, { file: string; type: string }> = {
  "/demo": { file: join(here, "index.html"), type: "text/html; charset=utf-8" },
  "/demo/": { file: join(here, "index.html"), type: "text/html; charset=utf-8" },
  "/demo/demo.js": { file: join(here, "demo.js"), type: "text/javascript; charset=utf-8" },
};

/** GET /demo: the demo page, its script and @simplewebauthn/browser. Answers true when it handled. */
export async function demoRoutes(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (req.method !== "GET" || !url.pathname.startsWith("/demo")) return false;
  let target = files[url.pathname];
  if (!target && url.pathname.startsWith("/demo/vendor/simplewebauthn/") && url.pathname.endsWith(".js")) {
    const relative = normalize(url.pathname.slice("/demo/vendor/simplewebauthn/".length));
    if (!relative.startsWith("..") && !relative.includes("\0")) target = { file: join(vendor, relative), type: "text/javascript; charset=utf-8" };
  }
  if (!target) return false;
  try {
    const body = await readFile(target.file);
    res.writeHead(200, { "content-type": target.type, "cache-control": "no-cache", "content-security-policy": contentSecurityPolicy });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
  return true;
}
