/**
 * What an outgoing bot activity asks to show, read once for every platform: its text parts, its
 * choices (suggestedActions and hero/thumbnail-card buttons; link buttons become text lines), the
 * cards' images, and the other attachments. Each adapter's convert-outgoing maps this to its API.
 */
import type { Activity, Attachment, CardAction } from 'botbuilder-core';
import { InvalidRequestError } from './errors';

export interface Choice {
  title: string;
  value: string;
}

export interface OutgoingContent {
  textParts: string[];
  choices: Choice[];
  cardImages: Array<{ url: string; alt?: string }>;
  /** Attachments that are not cards (files, media). */
  attachments: Attachment[];
}

const CARD_TYPES = new Set(['application/vnd.microsoft.card.hero', 'application/vnd.microsoft.card.thumbnail']);

interface HeroCard {
  title?: string;
  subtitle?: string;
  text?: string;
  buttons?: CardAction[];
  images?: Array<{ url: string; alt?: string }>;
}

/** `customHint` names the platform's escape hatch in the error for a card it cannot show. */
export function readOutgoingContent(activity: Partial<Activity>, platform: string, customHint: string): OutgoingContent {
  const content: OutgoingContent = { textParts: [], choices: [], cardImages: [], attachments: [] };
  if (activity.text) content.textParts.push(activity.text);
  for (const action of activity.suggestedActions?.actions ?? []) pushChoice(action, content);
  for (const attachment of activity.attachments ?? []) {
    if (attachment.contentType && CARD_TYPES.has(attachment.contentType)) {
      const card = (attachment.content ?? {}) as HeroCard;
      const cardText = [card.title, card.subtitle, card.text].filter((x): x is string => !!x).join('\n');
      if (cardText && !content.textParts.includes(cardText)) content.textParts.push(cardText);
      for (const button of card.buttons ?? []) pushChoice(button, content);
      content.cardImages.push(...(card.images ?? []));
      continue;
    }
    if (attachment.contentType?.startsWith('application/vnd.microsoft.card')) {
      throw new InvalidRequestError(`${platform}_card_unsupported`, `${platform === 'nimchat' ? 'Nimchat' : 'WOZTELL'} cannot show ${attachment.contentType}; use a hero card, suggestedActions or ${customHint}`);
    }
    content.attachments.push(attachment);
  }
  return content;
}

function pushChoice(action: CardAction, content: OutgoingContent): void {
  if (action.type === 'openUrl' || action.type === 'signin') {
    content.textParts.push(`${action.title ?? 'Link'}: ${String(action.value)}`);
    return;
  }
  const value = action.value ?? action.text ?? action.title;
  const title = action.title ?? action.text ?? String(value ?? '');
  if (value === undefined || value === null || title === '') return;
  content.choices.push({ title, value: typeof value === 'string' ? value : JSON.stringify(value) });
}
