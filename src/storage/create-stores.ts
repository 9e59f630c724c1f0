/** Builds the stores named by STORAGE_URL: `sqlite:<path>` (durable, the default) or `memory:`. */
import type { Logger } from '../log';
import { createMemoryStores } from './memory-stores';
import { createSqliteStores } from './sqlite-stores';
import type { Stores, StoresOptions } from './stores';

export type { Stores, StoresOptions } from './stores';

export function createStores(storageUrl: string, logger: Logger, options: StoresOptions = {}): Stores {
  if (storageUrl.startsWith('sqlite:')) return createSqliteStores(storageUrl.slice('sqlite:'.length), logger, options);
  return createMemoryStores(options);
}
