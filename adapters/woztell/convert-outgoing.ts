/**
 * Pure conversion of outgoing bot activities into WOZTELL Bot API `response` items:
 * text, media by URL, choices as reply buttons where the channel takes them (at most 3 short titles),
 * otherwise numbered text, and `channelData.woztell.response` for anything channel specific.
 */
import type { Activity, Attachment } from 'botbuilder-core';
import { readOutgoingContent, type Choice } from '../../src/outgoing-content';
import { InvalidRequestError } from '../../src/errors';

/** One item of `sendResponses.response` (free-form beyond `type`: WOZTELL's rich types vary by channel). */
export type WoztellResponseItem = { type: string } & Record<string, unknown>;

export type { Choice };

export interface OutgoingPlan {
  items: WoztellResponseItem[];
  /** Choices sent as numbered text: a reply "2" means the second one. */
  numberedChoices?: Choice[];
}

export interface OutgoingOptions {
  /** Send choices as WhatsApp reply buttons (≤3, titles ≤20 characters); numbered text otherwise. */
  replyButtons: boolean;
}

export const MAX_REPLY_BUTTONS = 3;
export const MAX_BUTTON_TITLE = 20;
export function toWoztellResponses(activity: Partial<Activity>, options: OutgoingOptions): OutgoingPlan {
  const custom = (activity.channelData as { woztell?: { response?: unknown } } | undefined)?.woztell?.response;
  if (custom !== undefined) return { items: readCustomResponse(custom) };

  const { textParts, choices, cardImages, attachments } = readOutgoingContent(activity, 'woztell', 'channelData.woztell.response');
  const media: WoztellResponseItem[] = [
    ...cardImages.map((image) => ({ type: 'IMAGE', url: requireUrl(image.url, image.alt ?? 'image') })),
    ...attachments.map((attachment) => mediaItem(attachment)),
  ];

  const text = textParts.join('\n\n');
  const items: WoztellResponseItem[] = [];
  let numberedChoices: Choice[] | undefined;
  if (choices.length > 0) {
    const fitsButtons = options.replyButtons && choices.length <= MAX_REPLY_BUTTONS && choices.every((c) => c.title.length <= MAX_BUTTON_TITLE);
    if (fitsButtons) {
      items.push({ type: 'WHATSAPP_REPLY_BUTTONS', text: text || 'Please choose:', buttons: choices.map((c) => ({ title: c.title, payload: c.value })) });
    } else {
      const lines = choices.map((c, i) => `${i + 1}. ${c.title}`);
      items.push({ type: 'TEXT', text: [text, lines.join('\n')].filter(Boolean).join('\n\n') });
      numberedChoices = choices;
    }
  } else if (text) {
    items.push({ type: 'TEXT', text });
  }
  items.push(...media);
  if (items.length === 0) throw new InvalidRequestError('woztell_message_empty', 'the message has no text, choices or attachments to send');
  return { items, numberedChoices };
}

const NUMBERED_REPLY = /^\s*(\d{1,2})\s*[.)]?\s*$/;

/** Whether a text is a bare choice number ("2", "2.", " 2 "). */
export function isNumberedReply(text: string | undefined): boolean {
  return !!text && NUMBERED_REPLY.test(text);
}

/** A numbered reply to the last numbered choices → that choice. */
export function matchNumberedChoice(text: string | undefined, choices: Choice[] | undefined): Choice | undefined {
  if (!text || !choices?.length) return undefined;
  const m = NUMBERED_REPLY.exec(text);
  if (!m) return undefined;
  return choices[Number(m[1]) - 1];
}

function mediaItem(attachment: Attachment): WoztellResponseItem {
  const name = attachment.name ?? 'file';
  const url = requireUrl(attachment.contentUrl, name);
  const type = attachment.contentType ?? '';
  if (type.startsWith('image/')) return { type: 'IMAGE', url };
  if (type.startsWith('video/')) return { type: 'VIDEO', url };
  if (type.startsWith('audio/')) return { type: 'AUDIO', url };
  return { type: 'FILE', url, ...(attachment.name ? { fileName: attachment.name } : {}) };
}

/** The Bot API takes media by public URL only. */
function requireUrl(url: string | undefined, name: string): string {
  if (!url || !/^https?:\/\//i.test(url)) {
    throw new InvalidRequestError('woztell_attachment_invalid', `attachment "${name}" needs an http(s) contentUrl: WOZTELL sends media by URL`);
  }
  return url;
}

function readCustomResponse(custom: unknown): WoztellResponseItem[] {
  const list = Array.isArray(custom) ? custom : [custom];
  if (list.length === 0 || !list.every((x) => x && typeof x === 'object' && typeof (x as { type?: unknown }).type === 'string')) {
    throw new InvalidRequestError('woztell_response_invalid', 'channelData.woztell.response must be a response item or a list of them, each with a "type"');
  }
  return list as WoztellResponseItem[];
}
