// tsc compiles only TypeScript: the plain CommonJS files next to the sources (the SQLite writer's
// thread) are copied to the same place under the output folder. Usage: node scripts/copy-build-assets.mjs [outDir]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(root, process.argv[2] ?? 'dist');
for (const folder of ['src', 'adapters', 'dialogs']) {
  const from = path.join(root, folder);
  for (const entry of fs.readdirSync(from, { recursive: true })) {
    const file = String(entry);
    if (!file.endsWith('.cjs')) continue;
    const target = path.join(outDir, folder, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(path.join(from, file), target);
  }
}
