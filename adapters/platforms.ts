/**
 * The platforms the app serves, in the order they start (a ticketing integration first: the channels'
 * dialogs open tickets at it). A new platform is one folder with a `platform.ts`, added here.
 */
import type { Platform } from '../src/platforms/platform';
import { inbentaPlatform, type InbentaPlatformOptions } from './inbenta/platform';
import { nimchatPlatform, type NimchatPlatformOptions } from './nimchat/platform';
import { woztellPlatform, type WoztellPlatformOptions } from './woztell/platform';

export const defaultPlatforms: readonly Platform<any>[] = [inbentaPlatform, nimchatPlatform, woztellPlatform];

/** The default platforms' own options in code (`AppOptions.platformOptions`), by platform name. */
export interface DefaultPlatformOptions {
  nimchat?: NimchatPlatformOptions;
  woztell?: WoztellPlatformOptions;
  inbenta?: InbentaPlatformOptions;
}
