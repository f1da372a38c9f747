/**
 * The Content-Security-Policy of the gateway's own pages (GraphiQL, /demo): everything from this origin
 * only, no plugins, no framing (clickjacking), plus what a page needs beyond that: inline scripts allowed
 * by hash, workers from blob: URLs (GraphiQL's editor), data:/blob: images and fonts.
 */
export function pagePolicy(page: { scriptHashes?: string[]; blobWorkers?: boolean; inlineAssets?: boolean } = {}): string {
  return [
    "default-src 'self'",
    ["script-src 'self'", ...(page.scriptHashes ?? [])].join(" "),
    ...(page.blobWorkers ? ["worker-src 'self' blob:"] : []),
    "style-src 'self' 'unsafe-inline'",
    page.inlineAssets ? "img-src 'self' data: blob:" : "img-src 'self' data:",
    ...(page.inlineAssets ? ["font-src 'self' data:"] : []),
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}
