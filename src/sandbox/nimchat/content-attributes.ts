/**
 * What the emulated Nimchat accepts as a message's `content_type` and `content_attributes`, by the
 * rules Chatwoot's message model applies (its content-type enum and its content-attribute
 * validation): a bot's malformed card or choice list is refused here as in production, 422 with the
 * reason, instead of passing every test.
 */
import { SandboxHttpError } from '../router';

export const CONTENT_TYPES = ['text', 'input_text', 'input_textarea', 'input_email', 'input_select', 'cards', 'form', 'article', 'incoming_email', 'input_csat', 'integrations', 'sticker', 'voice_call'] as const;

const ITEM_KEYS: Record<string, readonly string[]> = {
  input_select: ['title', 'value'],
  cards: ['title', 'description', 'media_url', 'actions'],
  form: ['type', 'placeholder', 'label', 'name', 'options', 'default', 'required', 'pattern', 'title', 'pattern_error'],
  article: ['title', 'description', 'link'],
};
const CARD_ACTION_KEYS = ['text', 'type', 'payload', 'uri'];

/** Throws the 422 Nimchat answers for an invalid content type or content attributes. */
export function checkContent(contentType: string | undefined, attributes: Record<string, unknown> | undefined): void {
  if (contentType === undefined) return;
  if (!(CONTENT_TYPES as readonly string[]).includes(contentType)) throw new SandboxHttpError(422, `'${contentType}' is not a valid content_type`);
  const allowed = ITEM_KEYS[contentType];
  if (!allowed) return;
  const items = attributes?.items;
  // Chatwoot's validator fails on anything but a list (its error is then the exception's text).
  if (items !== undefined && items !== null && !Array.isArray(items)) throw new SandboxHttpError(422, `undefined method 'blank?' or 'reject' for items: ${JSON.stringify(items)}`);
  const invalid = (problem: string) => new SandboxHttpError(422, `Validation failed: Content attributes ${problem}`);
  if (!Array.isArray(items) || items.length === 0) throw invalid('At least one item is required.');
  if (items.some((item) => typeof item !== 'object' || item === null || Array.isArray(item))) throw invalid('Items should be a hash.');
  const records = items as Array<Record<string, unknown>>;
  const unknownKeys = [...new Set(records.flatMap((item) => Object.keys(item).filter((key) => !allowed.includes(key))))];
  if (unknownKeys.length > 0) throw invalid(`contains invalid keys for items : [${unknownKeys.map((k) => `:${k}`).join(', ')}]`);
  if (contentType === 'cards') {
    if (records.some((item) => !Array.isArray(item.actions) || item.actions.length === 0)) throw invalid('contains items missing actions');
    const actionKeys = [...new Set(records.flatMap((item) => (item.actions as unknown[]).flatMap((action) => Object.keys((action ?? {}) as object).filter((key) => !CARD_ACTION_KEYS.includes(key)))))];
    if (actionKeys.length > 0) throw invalid(`contains invalid keys for actions:  [${actionKeys.map((k) => `:${k}`).join(', ')}]`);
  }
}
