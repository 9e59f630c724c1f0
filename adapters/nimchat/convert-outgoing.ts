/**
 * Pure conversion of outgoing bot activities into Nimchat message requests: text, choices
 * (suggestedActions and hero-card buttons → `input_select`), attachments (multipart files),
 * and `channelData.nimchat` for anything Nimchat-specific (cards, forms, private messages).
 */
import type { Activity, Attachment } from 'botbuilder-core';
import { readOutgoingContent } from '../../src/outgoing-content';
import { InvalidRequestError } from '../../src/errors';
import type { OutgoingMessage } from './client';

/** A file to upload: bytes already in hand, or a URL / data URI the adapter fetches. */
export interface FileSource {
  name: string;
  contentType: string;
  data?: Buffer;
  url?: string;
}

export interface NimchatMessagePlan {
  message: OutgoingMessage;
  files: FileSource[];
}

export const MAX_FILES_PER_MESSAGE = 15;
/** `channelData.nimchat` lets a bot send what has no botbuilder equivalent. */
interface NimchatChannelData {
  content_type?: string;
  content_attributes?: Record<string, unknown>;
  private?: boolean;
}

/** One activity → one or more message requests (more when there are over 15 files). */
export function toNimchatMessages(activity: Partial<Activity>): NimchatMessagePlan[] {
  const { textParts, choices: items, cardImages, attachments } = readOutgoingContent(activity, 'nimchat', 'channelData.nimchat');
  const files: FileSource[] = [
    ...cardImages.map((image) => fileFromUrl(image.url, image.alt)),
    ...attachments.map((attachment) => fileFromAttachment(attachment)),
  ];

  const custom = (activity.channelData as { nimchat?: NimchatChannelData } | undefined)?.nimchat;
  const content = textParts.join('\n\n');
  const message: OutgoingMessage = { content, message_type: 'outgoing', private: custom?.private === true };
  if (items.length > 0) {
    message.content_type = 'input_select';
    message.content_attributes = { items };
  }
  if (custom?.content_type) message.content_type = custom.content_type;
  if (custom?.content_attributes) message.content_attributes = custom.content_attributes;

  if (!content && files.length === 0 && !message.content_attributes) {
    throw new InvalidRequestError('nimchat_message_empty', 'the message has no text, choices or attachments to send');
  }
  if (files.length === 0) return [{ message, files }];
  if (message.content_attributes) {
    // Nimchat cannot carry choices and files in one multipart message: choices first, then files.
    return [{ message, files: [] }, ...chunk(files).map((f) => ({ message: { message_type: 'outgoing' as const, private: message.private }, files: f }))];
  }
  return chunk(files).map((f, i) => ({ message: i === 0 ? message : { message_type: 'outgoing', private: message.private }, files: f }));
}

function fileFromAttachment(attachment: Attachment): FileSource {
  const name = attachment.name ?? defaultName(attachment.contentType);
  const contentType = attachment.contentType ?? 'application/octet-stream';
  const content = attachment.content as unknown;
  if (Buffer.isBuffer(content)) return { name, contentType, data: content };
  if (content instanceof Uint8Array) return { name, contentType, data: Buffer.from(content) };
  // Bytes read back from the outbox (JSON): `{type: 'Buffer', data: [...]}`.
  const stored = content as { type?: unknown; data?: unknown } | undefined;
  if (stored?.type === 'Buffer' && Array.isArray(stored.data)) return { name, contentType, data: Buffer.from(stored.data as number[]) };
  if (attachment.contentUrl) return { name, contentType, url: attachment.contentUrl };
  throw new InvalidRequestError('nimchat_attachment_invalid', `attachment "${name}" has neither contentUrl nor binary content`);
}

function fileFromUrl(url: string, alt?: string): FileSource {
  const last = url.startsWith('data:') ? undefined : url.split('?')[0]!.split('/').pop();
  return { name: alt || last || 'image', contentType: 'application/octet-stream', url };
}

function defaultName(contentType?: string): string {
  const ext = contentType?.split('/')[1]?.replace(/[^a-z0-9]/gi, '') ?? 'bin';
  return `file.${ext}`;
}

function chunk<T>(list: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += MAX_FILES_PER_MESSAGE) out.push(list.slice(i, i + MAX_FILES_PER_MESSAGE));
  return out;
}

/** Decodes a `data:` URI; undefined when the string is not one. */
export function decodeDataUri(uri: string): { contentType: string; data: Buffer } | undefined {
  const m = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(uri);
  if (!m) return undefined;
  const data = m[2] ? Buffer.from(m[3]!, 'base64') : Buffer.from(decodeURIComponent(m[3]!), 'utf8');
  return { contentType: m[1] || 'application/octet-stream', data };
}
