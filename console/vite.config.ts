import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The operator console: static files the gateway serves at /console (src/server/console.ts). Built by
// `npm run console:build` (run by `npm install`, see package.json "prepare") into console/dist.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/console/",
  logLevel: "warn",
  // Preact's automatic JSX runtime.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // No inline scripts or styles: the page runs under a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
});
