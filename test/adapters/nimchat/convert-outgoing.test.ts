import { MessageFactory, CardFactory } from 'botbuilder-core';
import { describe, expect, it } from 'vitest';
import { decodeDataUri, toNimchatMessages } from '../../../adapters/nimchat/convert-outgoing';

describe('toNimchatMessages', () => {
  it('plain text', () => {
    expect(toNimchatMessages(MessageFactory.text('Hello'))).toEqual([{ message: { content: 'Hello', message_type: 'outgoing', private: false }, files: [] }]);
  });

  it('suggested actions become an input_select', () => {
    const [plan] = toNimchatMessages(MessageFactory.suggestedActions([{ type: 'imBack', title: 'Talk to a human', value: 'human' }, 'ticket'], 'How can I help?'));
    expect(plan!.message).toEqual({
      content: 'How can I help?',
      message_type: 'outgoing',
      private: false,
      content_type: 'input_select',
      content_attributes: { items: [{ title: 'Talk to a human', value: 'human' }, { title: 'ticket', value: 'ticket' }] },
    });
  });

  it('hero card buttons become an input_select; link buttons become text', () => {
    const card = CardFactory.heroCard('Orders', 'Pick one', [], [
      { type: 'postBack', title: 'Track', value: 'track' },
      { type: 'openUrl', title: 'Help centre', value: 'https://help.example.com' },
    ]);
    const [plan] = toNimchatMessages(MessageFactory.attachment(card));
    expect(plan!.message.content).toBe('Orders\nPick one\n\nHelp centre: https://help.example.com');
    expect(plan!.message.content_attributes).toEqual({ items: [{ title: 'Track', value: 'track' }] });
  });

  it('attachments become files, at most 15 per message', () => {
    const attachments = Array.from({ length: 17 }, (_, i) => ({ contentType: 'image/png', contentUrl: `https://x/${i}.png`, name: `${i}.png` }));
    const plans = toNimchatMessages({ type: 'message', text: 'photos', attachments });
    expect(plans.map((p) => p.files.length)).toEqual([15, 2]);
    expect(plans[0]!.message.content).toBe('photos');
    expect(plans[1]!.message.content).toBeUndefined();
  });

  it('channelData.nimchat passes Nimchat-only content through', () => {
    const [plan] = toNimchatMessages({ type: 'message', text: 'Your email?', channelData: { nimchat: { content_type: 'input_email' } } });
    expect(plan!.message.content_type).toBe('input_email');
  });

  it('refuses empty messages and cards Nimchat cannot show', () => {
    expect(() => toNimchatMessages({ type: 'message' })).toThrow(/no text/);
    expect(() => toNimchatMessages(MessageFactory.attachment(CardFactory.adaptiveCard({ type: 'AdaptiveCard' })))).toThrow(/adaptive/);
  });

  it('decodes data URIs', () => {
    expect(decodeDataUri('data:text/plain;base64,aGk=')).toEqual({ contentType: 'text/plain', data: Buffer.from('hi') });
    expect(decodeDataUri('https://x')).toBeUndefined();
  });
});
