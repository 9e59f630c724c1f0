/**
 * botbuilder renders a prompt's choices (ListStyle.auto, the default of ChoicePrompt and
 * ConfirmPrompt) from a table of channel ids it knows; on any other channel they become plain text
 * ("(1) Car, (2) Bus, or (3) Bicycle"). Our channels take choices natively (Nimchat `input_select`,
 * WOZTELL reply buttons or numbered choices whose number is read back as the choice), so each
 * adapter adds its channel to that table: the bot's prompts render as choices with no change to it.
 * botbuilder 4.23 is the final release, so the table's shape is fixed.
 */
import { createRequire } from 'node:module';

/** How a channel takes suggested actions. */
export interface NativeChoices {
  /** At most this many choices as actions. */
  maxActions: number;
  /** Titles up to this length. */
  maxTitleLength: number;
}

interface ChannelTable {
  supportsSuggestedActions(channelId: string, buttonCount?: number): boolean;
  maxActionTitleLength(channelId: string): number;
}

const CHANNEL_TABLE = 'botbuilder-dialogs/lib/choices/channel';
const channels = new Map<string, NativeChoices>();
const extended = new WeakSet<object>();
const bases = new Set<string>([__filename]);

/** Adds a channel to every botbuilder-dialogs copy reachable from here and from the places given with `alsoFrom`. */
export function addNativeChoices(channelId: string, choices: NativeChoices): void {
  channels.set(channelId, choices);
  for (const base of bases) extendTable(base);
}

/** Also extends the botbuilder-dialogs copy a bot's own module resolves (it may have its own). */
export function alsoFrom(file: string): void {
  bases.add(file);
  extendTable(file);
}

function extendTable(base: string): void {
  let table: ChannelTable;
  try {
    table = createRequire(base)(CHANNEL_TABLE) as ChannelTable;
  } catch {
    return; // no botbuilder-dialogs there: nothing renders prompts from it
  }
  if (extended.has(table) || typeof table.supportsSuggestedActions !== 'function') return;
  extended.add(table);
  const supports = table.supportsSuggestedActions;
  const maxTitle = table.maxActionTitleLength;
  table.supportsSuggestedActions = (channelId, buttonCount = 100) => {
    const native = channels.get(channelId);
    return native ? buttonCount <= native.maxActions : supports(channelId, buttonCount);
  };
  table.maxActionTitleLength = (channelId) => channels.get(channelId)?.maxTitleLength ?? maxTitle(channelId);
}
