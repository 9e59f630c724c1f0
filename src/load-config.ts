/**
 * The configuration of the platforms served: the core's variables and each platform's own (its
 * settings), read from the environment with `readConfig`. Default: the platforms of adapters/platforms.ts.
 */
import { defaultPlatforms } from '../adapters/platforms';
import { readConfig, type Config, type ConfiguredPlatform } from './config';

export function loadConfig(source: NodeJS.ProcessEnv = process.env, purpose: 'serve' | 'inspect' = 'serve', platforms: readonly ConfiguredPlatform[] = defaultPlatforms): Config {
  return readConfig(source, purpose, platforms);
}
