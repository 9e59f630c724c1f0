/**
 * The console's script and stylesheet, served by the endpoint itself (nothing from a CDN): read from the
 * build's output, or bundled from the sources when the server runs from them; kept in memory with a
 * gzip copy and an ETag.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLIENT_BUNDLE_DIR, CLIENT_SOURCE_DIR, bundleConsoleClient, type ConsoleBundle } from './client-build';

export interface Asset {
  contentType: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

export type AssetName = 'console.js' | 'console.css';

async function loadBundle(): Promise<ConsoleBundle> {
  const js = path.join(CLIENT_BUNDLE_DIR, 'console.js');
  const css = path.join(CLIENT_BUNDLE_DIR, 'console.css');
  if (fs.existsSync(js) && fs.existsSync(css)) return { js: fs.readFileSync(js, 'utf8'), css: fs.readFileSync(css, 'utf8') };
  if (fs.existsSync(path.join(CLIENT_SOURCE_DIR, 'main.tsx'))) return bundleConsoleClient();
  throw new Error(`the console's assets are missing from ${CLIENT_BUNDLE_DIR} (is the build complete?)`);
}

function asset(contentType: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8');
  return { contentType, body, gzipped: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export class ConsoleAssets {
  private loading?: Promise<Record<AssetName, Asset>>;

  get(name: AssetName): Promise<Asset> {
    this.loading ??= loadBundle().then((b) => ({ 'console.js': asset('text/javascript; charset=utf-8', b.js), 'console.css': asset('text/css; charset=utf-8', b.css) }));
    // A failed load is tried again at the next request.
    this.loading.catch(() => (this.loading = undefined));
    return this.loading.then((all) => all[name]);
  }
}
