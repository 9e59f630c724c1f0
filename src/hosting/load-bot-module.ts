/**
 * `handoff serve --bot <module>`: the developer's bot, loaded from their own module. The module is
 * the bot itself (`module.exports = agent`), or exports, by the first name found: `createBot(deps)`
 * (a factory), `bot` (an instance), `logic` (a turn function), or `default` (an instance, an
 * `ActivityHandler` subclass constructed without arguments, or a factory). A botbuilder bot or a
 * Microsoft 365 Agents SDK agent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StartupError } from '../errors';
import { isRunnable, type BotSource } from './hosted-bot';
import { addAgentsSdkCopyOf } from '../agents-sdk/agents-sdk-bot';

export interface LoadedBot {
  source: BotSource;
  /** The file the module was loaded from. */
  file: string;
}

/** Loads the bot module at `specifier` (a path, relative to `cwd`, or a package name). */
export async function loadBotModule(specifier: string, cwd = process.cwd()): Promise<LoadedBot> {
  const file = resolveModule(specifier, cwd);
  if (/\.[cm]?ts$/.test(file)) {
    throw new StartupError('bot_module_failed', `--bot ${specifier}: a TypeScript file cannot be loaded as it is. Compile it first (tsc), and point --bot at the .js file.`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = await importModule(file);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The Agents SDK's AgentApplication builds a CloudAdapter of its own, which wants an Azure client id in production.
    const hint = /ClientId required in production/i.test(message)
      ? ' The Agents SDK asks for a client id in production for a CloudAdapter of its own, which is not used here (this endpoint gives the agent each turn): set the variable clientId (to your Azure bot\'s id, or any name), or give the AgentApplication an adapter.'
      : '';
    throw new StartupError('bot_module_failed', `--bot ${specifier}: the module failed to load: ${message}${hint}`, { cause: error });
  }
  // An Agents SDK agent of another project is an instance of that project's copy of the SDK.
  addAgentsSdkCopyOf(file);
  const source = botSourceOf(loaded);
  if (!source) {
    const names = Object.keys(loaded).filter((k) => k !== '__esModule');
    throw new StartupError(
      'bot_module_invalid',
      `--bot ${specifier}: the module exports no bot. Export one of: createBot(deps) (a factory), bot (an ActivityHandler instance), logic (async (context) => …), or a default export of those or of an ActivityHandler class. It exports: ${names.length > 0 ? names.join(', ') : 'nothing'}.`,
    );
  }
  return { source, file };
}

function resolveModule(specifier: string, cwd: string): string {
  const relative = specifier.startsWith('.') || path.isAbsolute(specifier);
  const base = relative ? path.resolve(cwd, specifier) : specifier;
  try {
    return require.resolve(base, { paths: [cwd] });
  } catch {
    const where = relative ? base : `${specifier} (from ${cwd})`;
    const hint = relative && !fs.existsSync(base) && /\.ts$/.test(base) ? ' Compile it first (tsc), and point --bot at the .js file.' : '';
    throw new StartupError('bot_module_not_found', `--bot ${specifier}: no module at ${where}.${hint}`);
  }
}

/** CommonJS through require; ES modules through import() (which TypeScript's CommonJS output would turn into require). */
async function importModule(file: string): Promise<Record<string, unknown>> {
  if (/\.mjs$/.test(file)) return dynamicImport(pathToFileURL(file).href);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the developer's module, found at run time
    return require(file) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM' || (error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ASYNC_MODULE') {
      return dynamicImport(pathToFileURL(file).href);
    }
    throw error;
  }
}

// A real import(), kept from TypeScript's CommonJS transform (which would make it a require).
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

function botSourceOf(loaded: Record<string, unknown>): BotSource | undefined {
  // `module.exports = bot` (an instance, not a module's plain exports object).
  const proto: unknown = Object.getPrototypeOf(loaded);
  if (proto !== Object.prototype && proto !== null && isRunnable(loaded)) return loaded;
  if (typeof loaded.createBot === 'function') return { createBot: loaded.createBot as never };
  if (isRunnable(loaded.bot)) return loaded.bot;
  if (typeof loaded.logic === 'function') return loaded.logic as never;
  const fallback = loaded.default;
  if (isRunnable(fallback)) return fallback;
  if (typeof fallback === 'function') {
    const proto = (fallback as { prototype?: { run?: unknown } }).prototype;
    if (proto && typeof proto.run === 'function') {
      const BotClass = fallback as new () => unknown;
      return new BotClass() as never;
    }
    return { createBot: fallback as never };
  }
  if (typeof fallback === 'object' && fallback !== null) return botSourceOf(fallback as Record<string, unknown>);
  return undefined;
}
