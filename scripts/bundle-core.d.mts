import type { BuildResult, Plugin } from 'esbuild';
export declare const noNodeImports: Plugin;
export declare function bundleCore(outfile?: string): Promise<BuildResult>;
