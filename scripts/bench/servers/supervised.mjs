// `handoff serve` as it runs outside the sandbox: the supervisor (this process, from dist/) holding the
// port and passing every request to its worker (dist/src/cli/main.js serve, a child), configured from the
// environment the runner sets, as project.mjs is. Its CPU is this process's and the worker's (/proc), so
// the figure is what the two processes cost per webhook together; its memory is the supervisor's own.
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { serveBenchChild } from './child.mjs';
import { processTreeCpuUs } from '../postgres.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { Supervisor } = require('../../../dist/src/hosting/supervisor.js');
const { createLogger } = require('../../../dist/src/log.js');

const supervisor = new Supervisor({
  port: 0,
  host: '127.0.0.1',
  logger: createLogger({ level: 'warn' }),
  worker: { modulePath: path.resolve(here, '../../../dist/src/cli/main.js'), args: ['serve'], execArgv: [] },
  env: process.env,
});
await supervisor.start();
serveBenchChild(
  `http://127.0.0.1:${supervisor.port}/api/nimchat`,
  () => supervisor.stop(),
  () => ({ cpu: { user: processTreeCpuUs(process.pid), system: 0 } }),
);
