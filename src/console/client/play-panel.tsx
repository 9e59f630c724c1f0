/** Sandbox mode: play the customers (a Nimchat web chat, a WOZTELL member) and the Inbenta agent, in the browser. */
import { useState } from 'preact/hooks';
import type { Conversation, SessionInfo } from './api';
import { NimchatCustomer } from './play-nimchat-customer';
import { WoztellCustomer } from './play-woztell-customer';
import { InbentaDesk } from './play-inbenta-desk';

type Tab = 'nimchat' | 'woztell' | 'inbenta';

export function PlayPanel({ play, onOpen }: { play: NonNullable<SessionInfo['play']>; onOpen: (c: Conversation) => void }) {
  const [tab, setTab] = useState<Tab>('nimchat');
  return (
    <aside class="play" aria-label="Play the roles">
      <h2>Play</h2>
      <nav class="subtabs">
        {play.nimchat && (
          <button class={tab === 'nimchat' ? 'tab active' : 'tab'} onClick={() => setTab('nimchat')}>
            Nimchat customer
          </button>
        )}
        {play.woztell && (
          <button class={tab === 'woztell' ? 'tab active' : 'tab'} onClick={() => setTab('woztell')}>
            WOZTELL member
          </button>
        )}
        {play.inbenta && (
          <button class={tab === 'inbenta' ? 'tab active' : 'tab'} onClick={() => setTab('inbenta')}>
            Inbenta desk
          </button>
        )}
      </nav>
      {/* Kept mounted: a chat keeps its customer when another tab is shown. */}
      <div hidden={tab !== 'nimchat'}>{play.nimchat && <NimchatCustomer visible={tab === 'nimchat'} onOpen={onOpen} />}</div>
      <div hidden={tab !== 'woztell'}>{play.woztell && <WoztellCustomer visible={tab === 'woztell'} onOpen={onOpen} />}</div>
      <div hidden={tab !== 'inbenta'}>{play.inbenta && <InbentaDesk visible={tab === 'inbenta'} />}</div>
    </aside>
  );
}
