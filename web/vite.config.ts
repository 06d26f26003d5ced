/**
 * The browser app's build: static files with content hashes into dist/web, no
 * inline script (the strict Content-Security-Policy allows none), no module-preload
 * polyfill (it would be inline). scripts/web-integrity.mjs then adds Subresource
 * Integrity to every script and stylesheet and writes the app's digest.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  base: '/',
  resolve: {
    // @hpke/common imports Node's crypto only where WebCrypto is missing (never in a
    // browser): an empty module stands in, so nothing Node-shaped ships.
    alias: { crypto: fileURLToPath(new URL('src/no-node-crypto.ts', import.meta.url)) },
  },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    // One script: index.html carries the integrity of everything the app runs, and a
    // chunk loaded later by import() would carry none (scripts/web-integrity.mjs
    // refuses a build that has one). The client core's lazy imports stay lazy to run.
    rolldownOptions: { output: { codeSplitting: false } },
  },
});
