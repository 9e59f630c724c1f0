// The console's browser code, bundled (esbuild: one script, one stylesheet, minified) into dist next to
// the compiled server code, which serves it at /console/assets. Runs after tsc (it uses the compiled
// bundler module). Usage: node scripts/build-console.mjs [outDir]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(root, process.argv[2] ?? 'dist');
const require = createRequire(import.meta.url);
const { bundleConsoleClient } = require(path.join(root, 'dist/src/console/client-build.js'));

const bundle = await bundleConsoleClient(path.join(root, 'src/console/client'));
const target = path.join(outDir, 'src/console/client-dist');
fs.mkdirSync(target, { recursive: true });
fs.writeFileSync(path.join(target, 'console.js'), bundle.js);
fs.writeFileSync(path.join(target, 'console.css'), bundle.css);
const kb = (s) => `${(Buffer.byteLength(s) / 1024).toFixed(1)} KiB`;
console.log(`console bundle: console.js ${kb(bundle.js)}, console.css ${kb(bundle.css)} → ${path.relative(root, target)}`);
