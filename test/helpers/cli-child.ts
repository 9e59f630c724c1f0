/**
 * The real command line (src/cli/main.ts) as a child process under vite-node: `vite-node
 * test/helpers/cli-child.ts serve` is `handoff serve`. The commands main.ts loads lazily are imported
 * here up front, because vite-node stops transforming modules once the entry file has been evaluated.
 */
import '../../src/cli/serve';
import '../../src/cli/sandbox-serve';
import '../../src/cli/main';
