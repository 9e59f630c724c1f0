/**
 * Builds the stores named by STORAGE_URL: `sqlite:<path>` (durable, the default), `postgres://…` /
 * `postgresql://…` (durable, shared by several replicas; `pool` sizes its connection pool) or `memory:`.
 */
import type { Logger } from '../log';
import { createMemoryStores } from './memory-stores';
import type { PostgresPoolOptions } from './postgres-database';
import { createPostgresStores } from './postgres-stores';
import { isPostgresUrl } from './postgres-url';
import { createSqliteStores } from './sqlite-stores';
import type { Stores, StoresOptions } from './stores';

export type { Stores, StoresOptions } from './stores';

export interface CreateStoresOptions extends StoresOptions {
  /** PostgreSQL only: pool size and timeouts. */
  pool?: PostgresPoolOptions;
  /** PostgreSQL only: this replica's name as the holder of conversation leases (see PostgresReplicaCoordination). */
  replicaId?: string;
}

export function createStores(storageUrl: string, logger: Logger, options: CreateStoresOptions = {}): Stores {
  if (storageUrl.startsWith('sqlite:')) return createSqliteStores(storageUrl.slice('sqlite:'.length), logger, options);
  if (isPostgresUrl(storageUrl)) return createPostgresStores(storageUrl, logger, options);
  return createMemoryStores(options);
}
