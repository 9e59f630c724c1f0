/**
 * The platforms the app serves, in the order they start (a ticketing integration first: the channels'
 * dialogs open tickets at it). A new platform is one folder with a `platform.ts`, added here.
 */
import type { Platform } from '../src/platforms/platform';
import { inbentaPlatform } from './inbenta/platform';
import { nimchatPlatform } from './nimchat/platform';
import { woztellPlatform } from './woztell/platform';

export const defaultPlatforms: readonly Platform<any>[] = [inbentaPlatform, nimchatPlatform, woztellPlatform];
