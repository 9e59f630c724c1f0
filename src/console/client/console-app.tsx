/** The page's frame: header with mode and live status, health charts, and the two views. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, post, type Conversation, type HealthSample, type PageMeta, type SessionInfo } from './api';
import { useLive, useThrottledReload } from './live';
import { HealthStrip } from './health-strip';
import { ConversationList } from './conversation-list';
import { TimelineView } from './timeline-view';
import { OutboxView } from './outbox-view';
import { AgentDesk } from './agent-desk';
import { PlayPanel } from './play-panel';

type View = 'conversations' | 'outbox';

export function ConsoleApp({ meta }: { meta: PageMeta }) {
  const [view, setView] = useState<View>('conversations');
  const [selected, setSelected] = useState<Conversation | undefined>(undefined);
  const [session, setSession] = useState<SessionInfo | undefined>(undefined);
  const [samples, setSamples] = useState<HealthSample[]>([]);
  const [stuck, setStuck] = useState(0);
  const onSample = useCallback((sample: HealthSample) => setSamples((s) => [...s.slice(-719), sample]), []);
  const live = useLive(onSample);

  useEffect(() => {
    void get<SessionInfo>('session').then(setSession);
    void get<{ samples: HealthSample[] }>('health').then((h) => setSamples((s) => (s.length > 0 ? s : h.samples)));
  }, []);

  const logout = async () => {
    await post('../logout').catch(() => undefined);
    window.location.assign('/console/login');
  };

  return (
    <div class="frame">
      <header class="top">
        <h1>Handoff console</h1>
        <span class={`badge ${meta.sandbox ? 'sandbox' : 'production'}`}>{meta.sandbox ? 'sandbox' : 'production'}</span>
        {meta.readOnly && <span class="badge warn">read-only</span>}
        <span class={`live ${live.connected ? 'on' : 'off'}`} title={live.connected ? 'live updates on' : 'reconnecting…'}>
          {live.connected ? 'live' : 'offline'}
        </span>
        <nav>
          <button class={view === 'conversations' ? 'tab active' : 'tab'} onClick={() => setView('conversations')}>
            Conversations
          </button>
          <button class={view === 'outbox' ? 'tab active' : 'tab'} onClick={() => setView('outbox')} data-testid="outbox-tab">
            Outbox &amp; set aside{stuck > 0 && <span class="count">{stuck}</span>}
          </button>
        </nav>
        {meta.session && (
          <button class="link" onClick={() => void logout()}>
            Log out
          </button>
        )}
      </header>
      <HealthStrip samples={samples} />
      {view === 'conversations' ? (
        <main class={meta.sandbox ? 'layout with-play' : 'layout'}>
          <ConversationList version={live.version} selected={selected?.conversationId} onSelect={setSelected} />
          <section class="detail">
            {selected ? (
              <>
                {meta.sandbox && session?.play && <AgentDesk conversation={selected} play={session.play} version={live.version} />}
                <TimelineView version={live.version} conversation={selected} />
              </>
            ) : (
              <p class="empty">Pick a conversation to see its timeline.</p>
            )}
          </section>
          {meta.sandbox && session?.play && <PlayPanel play={session.play} onOpen={(c) => setSelected(c)} />}
        </main>
      ) : (
        <main class="layout single">
          <OutboxView version={live.version} readOnly={meta.readOnly} onCount={setStuck} onOpen={(c) => { setSelected(c); setView('conversations'); }} />
        </main>
      )}
      <OutboxCounter version={live.version} onCount={setStuck} active={view !== 'outbox'} />
    </div>
  );
}

/** Keeps the tab's count of stuck work fresh while another view is shown. */
function OutboxCounter({ version, onCount, active }: { version: number; onCount: (n: number) => void; active: boolean }) {
  useThrottledReload(version, String(active), async () => {
    if (!active) return;
    const [a, e] = await Promise.all([get<{ actions: unknown[] }>('outbox?limit=1000'), get<{ events: unknown[] }>('set-aside?limit=1000')]);
    onCount(a.actions.length + e.events.length);
  }, 3000);
  return null;
}
