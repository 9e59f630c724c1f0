/**
 * The storage engines under test, for suites run against each of them: a fresh, empty store location
 * per call (memory: a new store; sqlite: a new file; postgres: a new database on the run's server),
 * and stores opened there the way the app opens them (createStores, then open()).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStores, type CreateStoresOptions, type Stores } from '../../src/storage/create-stores';
import { silentLogger } from '../../src/log';
import { createTestDatabase, dropTestDatabases } from './postgres';

export interface Engine {
  name: 'memory' | 'sqlite' | 'postgres';
  /** Two stores opened on one location share their data (two connections to one database). */
  shared: boolean;
  /** A new, empty location (a STORAGE_URL). */
  location(): Promise<string>;
}

let dir: string | undefined;
let files = 0;
const opened: Stores[] = [];

export const ENGINES: Engine[] = [
  { name: 'memory', shared: false, location: async () => 'memory:' },
  {
    name: 'sqlite',
    shared: true,
    location: async () => {
      dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-engines-'));
      return `sqlite:${path.join(dir, `s${files++}.sqlite`)}`;
    },
  },
  { name: 'postgres', shared: true, location: createTestDatabase },
];

export const SHARED_ENGINES = ENGINES.filter((e) => e.shared);

/** Opens stores on a location (closed by closeEngines). */
export async function openStores(url: string, options: CreateStoresOptions = {}): Promise<Stores> {
  const stores = createStores(url, silentLogger, options);
  opened.push(stores);
  await stores.open?.();
  return stores;
}

/** Closes every store opened here, then removes the files and databases (afterAll). */
export async function closeEngines(): Promise<void> {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
  await dropTestDatabases();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}
