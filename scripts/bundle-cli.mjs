#!/usr/bin/env node
// Bundles the executable (src/sisp.ts) into dist/sisp.js with its client code split
// into chunks under dist/chunks/ (esbuild): start-up then reads a few files instead of
// resolving and linking hundreds of modules and CommonJS packages (bench/README,
// "CLI start-up"). The server stays the compiled modules under dist/server/, loaded
// only by `sisp serve`; native packages stay in node_modules.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

/** `sisp serve` loads dist/server/main.js as it is: it starts worker threads by file. */
const serverStaysOutside = {
  name: 'server-stays-outside',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/server\/main\.js$/ }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

/**
 * commander requires node:child_process when it loads, for executable subcommands,
 * which sisp has none of; loading it costs ~7 ms of every command's start-up, `sisp
 * --help` included (bench/README). Inside commander it becomes a module that loads
 * child_process on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'sisp-lazy' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'sisp-lazy' }, () => ({
      contents:
        "let loaded; module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

const NATIVE = ['sharp', 'bufferutil', 'utf-8-validate', 'better-sqlite3', 'pg-native'];

// Chunk names carry a content hash: clear the last build's, which nothing loads any more.
rmSync('dist/chunks', { recursive: true, force: true });

await build({
  entryPoints: { sisp: 'src/sisp.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: NATIVE,
  plugins: [serverStaysOutside, lazyChildProcessForCommander],
  // CommonJS packages in an ES module bundle still call require (ws for bufferutil).
  banner: {
    js: "import { createRequire as sispCreateRequire } from 'node:module'; const require = sispCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
