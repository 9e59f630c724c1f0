/** Under test, a supervisor's worker is this same command line under vite-node. */
import path from 'node:path';
import { setWorkerScript } from '../../src/cli/serve';

setWorkerScript({ modulePath: path.resolve(__dirname, '../../node_modules/vite-node/vite-node.mjs'), argsBefore: [path.resolve(__dirname, 'cli-child.ts')] });
