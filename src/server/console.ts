import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run console:build` writes the operator console (console/, its own entry and build). */
const dist = fileURLToPath(new URL("../../console/dist/", import.meta.url));

const types: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
};

/**
 * The console's own policy: its scripts and styles from this origin only (no inline script or style),
 * its API calls (HTTP and graphql-ws) to this origin only, no framing, no plug-ins: nothing of the page
 * may talk to another host.
 */
export const consolePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Serves the operator console at /console: the page itself never cached (it names the current assets),
 * the hashed assets cached for a year. Answers true when it handled the request.
 */
export function consoleRoutes() {
  const cache = new Map<string, Buffer>();
  const file = async (name: string): Promise<Buffer | null> => {
    const hit = cache.get(name);
    if (hit) return hit;
    try {
      const content = await readFile(dist + name);
      if (name !== "index.html") cache.set(name, content);
      return content;
    } catch {
      return null;
    }
  };
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname;
    if (path !== "/console" && !path.startsWith("/console/")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return true;
    }
    const common = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
    const asset = /^\/console\/assets\/([\w.-]+)$/.exec(path);
    if (asset) {
      const content = await file(`assets/${asset[1]}`);
      if (!content) {
        res.writeHead(404, common).end();
        return true;
      }
      res.writeHead(200, { ...common, "content-type": types[extname(asset[1])] ?? "application/octet-stream", "cache-control": "public, max-age=31536000, immutable" });
      res.end(req.method === "HEAD" ? undefined : content);
      return true;
    }
    if (path.startsWith("/console/assets/")) {
      res.writeHead(404, common).end();
      return true;
    }
    if (path === "/console") {
      res.writeHead(308, { ...common, location: "/console/" }).end();
      return true;
    }
    // Every other path is a screen of the one page (its routes are in the hash).
    const page = await file("index.html");
    if (!page) {
      res.writeHead(503, { ...common, "content-type": "text/plain; charset=utf-8" });
      res.end("The console is not built: run `npm run console:build` (npm install does it).\n");
      return true;
    }
    res.writeHead(200, { ...common, "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", "content-security-policy": consolePolicy });
    res.end(req.method === "HEAD" ? undefined : page);
    return true;
  };
}
