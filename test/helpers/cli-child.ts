/**
 * The real command line (src/cli/main.ts) as a child process under vite-node: `vite-node
 * test/helpers/cli-child.ts serve` is `handoff serve`. The commands main.ts loads lazily are imported
 * here up front, because vite-node stops transforming modules once the entry file has been evaluated.
 * The supervisor's workers run the same way (this file under vite-node), not the built dist: said
 * before main.ts runs, which is imported last.
 */
import './cli-worker-script';
import '../../src/cli/sandbox-serve';
import '../../src/hosting/supervised-worker';
import '../../src/cli/main';
