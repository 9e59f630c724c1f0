// This project's server, as `handoff serve` builds it: App + loadConfig from dist/ (run `npm run build`
// first), configured from the environment the runner sets (NIMCHAT_*, STORAGE_URL, PORT, HOST, LOG_LEVEL;
// for the PostgreSQL replicas also REPLICA_ID, one per process).
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import process from 'node:process';
import { serveBenchChild } from './child.mjs';
import { MenuBot } from './menu-bot.mjs';

const require = createRequire(import.meta.url);
// BENCH_DIST: another build of the project (an earlier commit's dist/, for a before/after in one run).
const dist = process.env.BENCH_DIST ?? '../../../dist';
const { App } = require(`${dist}/src/app.js`);
let loadConfig;
try {
  ({ loadConfig } = require(`${dist}/src/load-config.js`));
} catch {
  ({ loadConfig } = require(`${dist}/src/config.js`)); // builds from before load-config.js
}
const { createLogger } = require(`${dist}/src/log.js`);

// Outgoing HTTP requests of this process (the replies), so the runner can say how the work was shared among replicas.
let requests = 0;
diagnostics.subscribe('http.client.request.start', () => requests++);

const config = loadConfig(process.env, 'serve');
const createBot = process.env.BENCH_BOT === 'menu' ? () => new MenuBot() : undefined;
const app = new App(config, { logger: createLogger({ level: config.logLevel, secrets: config.secrets }), createBot });
await app.start();
serveBenchChild(`${app.url}/api/nimchat`, () => app.stop(), () => ({ requests }));
