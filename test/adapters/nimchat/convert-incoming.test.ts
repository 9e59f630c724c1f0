import { describe, expect, it } from 'vitest';
import { planIncoming, readSubmittedValues, toBotAttachment } from '../../../adapters/nimchat/convert-incoming';
import { parseNimchatWebhook } from '../../../adapters/nimchat/schemas';
import { conversation, conversationEvent, messageCreated } from '../../helpers/payloads';

const ctx = { baseUrl: 'https://chat.example.com', now: Date.parse('2026-12-01T10:00:00Z') };
const plan = (payload: unknown) => planIncoming(parseNimchatWebhook(payload), ctx);

describe('planIncoming: which events become turns', () => {
  it('an incoming public message becomes a message activity with every field botbuilder needs', () => {
    const p = plan(messageCreated());
    expect('activity' in p && p.activity).toMatchObject({
      type: 'message',
      channelId: 'nimchat',
      id: '118',
      text: 'Hi, where is my order?',
      serviceUrl: 'https://chat.example.com',
      conversation: { id: '1:10', isGroup: false },
      from: { id: '1:contact-14', name: 'little-haze-776', role: 'user', properties: { email: 'ada@example.com' } },
      recipient: { role: 'bot' },
      locale: 'en',
    });
    const a = (p as { activity: { timestamp: Date; channelData: unknown } }).activity;
    expect(a.timestamp).toBeInstanceOf(Date);
    expect(a.timestamp.toISOString()).toBe('2026-06-17T10:02:48.512Z');
    expect(a.channelData).toMatchObject({ event: 'message_created', id: 118 });
    expect('dedupeKeys' in p && p.dedupeKeys).toEqual(['message_created:1:118']);
  });

  it('conversation ids are unique across accounts', () => {
    const a = plan(messageCreated({ account: { id: 1 } }));
    const b = plan(messageCreated({ account: { id: 2 } }));
    expect((a as any).activity.conversation.id).not.toBe((b as any).activity.conversation.id);
  });

  it.each([
    ['the bot\'s own reply', messageCreated({ message_type: 'outgoing', sender: { id: 3, name: 'Bot', type: 'agent_bot' } }), "the bot's own message"],
    ['a private note by an agent', messageCreated({ message_type: 'outgoing', private: true, sender: { id: 1, name: 'Sam', type: 'user' } }), 'private note'],
    ['a private incoming note', messageCreated({ private: true }), 'private note'],
    ['a template', messageCreated({ message_type: 'template', sender: null }), 'template message from the system'],
    ['a delivery status update', messageCreated({ event: 'message_updated', content_attributes: { external_error: null } }), 'message update (delivery status or edit)'],
    ['an unknown event', { event: 'contact_created', id: 1 }, 'unknown event contact_created'],
  ])('%s becomes nothing', (_n, payload, reason) => {
    const p = plan(payload);
    expect('activity' in p && p.activity).toBeFalsy();
    expect((p as { ignored?: string }).ignored).toBe(reason);
  });

  it('a human agent\'s public message is a takeover event, not a message turn', () => {
    const p = plan(messageCreated({ id: 200, message_type: 'outgoing', content: 'Hi, Sam here', sender: { id: 1, name: 'Sam', type: 'user' } }));
    expect((p as any).activity).toMatchObject({ type: 'event', name: 'conversation.agentMessage', value: { text: 'Hi, Sam here', agent: { id: 1, name: 'Sam' } } });
    expect((p as any).observation).toMatchObject({ kind: 'agent_message' });
  });

  it('an input_select answer (submitted_values) becomes a message whose text is the chosen value', () => {
    const p = plan(
      messageCreated({
        event: 'message_updated',
        id: 119,
        message_type: 'outgoing',
        content_type: 'input_select',
        content: 'How can I help you today?',
        content_attributes: { items: [{ title: 'Talk to a human', value: 'human' }], submitted_values: [{ title: 'Talk to a human', value: 'human' }] },
        sender: { id: 3, name: 'Bot', type: 'agent_bot' },
      }),
    );
    expect((p as any).activity).toMatchObject({ type: 'message', text: 'human', id: '119:submitted', replyToId: '119', from: { role: 'user', id: '1:contact-14' } });
    expect((p as any).dedupeKeys).toEqual(['submitted:1:119']);
  });

  it('form answers become name/value text and an object value', () => {
    expect(readSubmittedValues('form', [{ name: 'email', value: 'a@b.c' }, { name: 'order', value: '42' }])).toEqual({
      text: 'email: a@b.c\norder: 42',
      value: { email: 'a@b.c', order: '42' },
    });
  });

  it('conversation events become conversation.updated events with a status observation', () => {
    const p = plan(conversationEvent('conversation_status_changed', 'open', 1781690600.5, [{ status: { previous_value: 'pending', current_value: 'open' } }]));
    expect((p as any).activity).toMatchObject({ type: 'event', name: 'conversation.updated', value: { status: 'open', changed: { status: { current_value: 'open' } } } });
    expect((p as any).observation).toEqual({ kind: 'status_change', status: 'open', observedAt: 1781690600500 });
    const noisy = plan(conversationEvent('conversation_updated', 'pending', 1781690601, [{ waiting_since: { previous_value: 1, current_value: 2 } }]));
    expect((noisy as any).observation.kind).toBe('snapshot');
  });

  it('webwidget_triggered becomes a widgetOpened event, even without a conversation', () => {
    const p = plan({
      event: 'webwidget_triggered',
      id: 12,
      source_id: 'abc',
      contact: { id: 14, name: 'little-haze-776', email: null },
      inbox: { id: 1, name: 'Acme Support' },
      account: { id: 1, name: 'Acme Inc' },
      current_conversation: null,
      event_info: { widget_language: 'en' },
    });
    expect((p as any).activity).toMatchObject({ type: 'event', name: 'conversation.widgetOpened', conversation: { id: '1:contact-14' }, value: { hasConversation: false } });
    // What the payload does not date is dated by the injected clock, not the machine's.
    expect((p as any).activity.timestamp.toISOString()).toBe('2026-12-01T10:00:00.000Z');
  });

  it('attachments become botbuilder attachments', () => {
    expect(toBotAttachment({ id: 1, file_type: 'image', data_url: 'https://x/rails/blobs/a/photo.png', thumb_url: 'https://x/t.png', extension: null })).toEqual({
      contentType: 'image/png',
      contentUrl: 'https://x/rails/blobs/a/photo.png',
      thumbnailUrl: 'https://x/t.png',
      name: 'photo.png',
    });
    expect(toBotAttachment({ file_type: 'location', coordinates_lat: 1.5, coordinates_long: 2.5, fallback_title: 'Home' })).toMatchObject({
      contentType: 'application/vnd.nimchat.location',
      content: { latitude: 1.5, longitude: 2.5 },
    });
    const withAttachment = plan(messageCreated({ content: null, attachments: [{ id: 9, message_id: 118, file_type: 'file', data_url: 'https://x/r/b/k/invoice.pdf', thumb_url: '' }] }));
    expect((withAttachment as any).activity.attachments).toEqual([{ contentType: 'application/pdf', contentUrl: 'https://x/r/b/k/invoice.pdf', thumbnailUrl: undefined, name: 'invoice.pdf' }]);
    expect((withAttachment as any).activity.text).toBe('');
  });

  it('schema violations are errors that name the field', () => {
    expect(() => parseNimchatWebhook({ event: 'message_created', id: 'x' })).toThrow(/id/);
    expect(() => parseNimchatWebhook({ id: 1 })).toThrow(/event/);
    expect(() => parseNimchatWebhook(messageCreated({ conversation: { ...conversation(10), status: 5 } }))).toThrow(/status/);
  });
});
