/**
 * Bundles the console's browser code (src/console/client: TypeScript, preact, uPlot) into one script
 * and one stylesheet with esbuild: minified, no source maps, nothing fetched at run time. The build
 * (scripts/build-console.mjs) writes them into dist; a server running from the sources bundles in
 * memory at its first request.
 */
import path from 'node:path';

export interface ConsoleBundle {
  js: string;
  css: string;
}

export const CLIENT_SOURCE_DIR = path.join(__dirname, 'client');
/** Where the build puts the bundle, next to the compiled server code. */
export const CLIENT_BUNDLE_DIR = path.join(__dirname, 'client-dist');

export async function bundleConsoleClient(sourceDir = CLIENT_SOURCE_DIR): Promise<ConsoleBundle> {
  // A build-time tool (devDependency): never loaded by a server running from dist.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(sourceDir, 'main.tsx')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'out',
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: sourceDir,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'));
  if (!js || !css) throw new Error('the console bundle is incomplete (no script or no stylesheet)');
  return { js: js.text, css: css.text };
}
