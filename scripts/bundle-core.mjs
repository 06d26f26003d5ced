#!/usr/bin/env node
// Bundles the client core for browsers (esbuild, platform "browser") into
// dist/browser/sisp-core.js, and fails the build on any Node import: a Node
// built-in, or a module from the Node-only layers (client/, cli/, server/, node/).
import { builtinModules } from 'node:module';
import { relative } from 'node:path';
import { build } from 'esbuild';

const builtins = new Set(builtinModules);
const NODE_LAYERS = /(^|\/)src\/(client|cli|server|node)\//;
/**
 * The one Node import allowed, because it never runs in a browser: @hpke/common falls
 * back to `await import("crypto")` only when globalThis.crypto is missing (old Node).
 * It stays an unresolved dynamic import in the bundle.
 */
const HARMLESS_FALLBACKS = [
  { importer: /node_modules\/@hpke\/common\//, path: 'crypto', kind: 'dynamic-import' },
];

/** esbuild plugin: any Node built-in or Node-only module is an error, naming the importer. */
export const noNodeImports = {
  name: 'no-node-imports',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '').split('/')[0];
      const harmless = HARMLESS_FALLBACKS.some(
        (f) => f.importer.test(args.importer) && f.path === args.path && f.kind === args.kind,
      );
      if (harmless) return { path: args.path, external: true };
      if (args.path.startsWith('node:') || builtins.has(bare)) {
        return {
          errors: [
            {
              text: `Node built-in "${args.path}" imported by ${relative('.', args.importer)}: this code must run in a browser`,
            },
          ],
        };
      }
      return undefined;
    });
    pluginBuild.onLoad({ filter: /\.[cm]?[jt]s$/ }, (args) => {
      if (NODE_LAYERS.test(args.path)) {
        return {
          errors: [
            { text: `${relative('.', args.path)} is Node-only and may not be in a browser bundle` },
          ],
        };
      }
      return undefined;
    });
  },
};

export async function bundleCore(outfile = 'dist/browser/sisp-core.js') {
  const result = await build({
    entryPoints: ['src/core/index.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile,
    sourcemap: true,
    minify: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [noNodeImports],
  });
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const result = await bundleCore();
    const bytes = result.metafile.outputs['dist/browser/sisp-core.js']?.bytes ?? 0;
    console.log(
      `browser bundle of the client core: dist/browser/sisp-core.js (${Math.round(bytes / 1024)} KiB)`,
    );
  } catch (error) {
    for (const message of error.errors ?? []) console.error(`error: ${message.text}`);
    if (error.errors === undefined) console.error(error);
    process.exit(1);
  }
}
