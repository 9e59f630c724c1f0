/** The server's Server-Sent Events: `changed` when the store recorded something, `sample` for each health sample. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { HealthSample } from './api';

export interface LiveState {
  connected: boolean;
  /** Increases with every change the server announced. */
  version: number;
}

export function useLive(onSample: (sample: HealthSample) => void): LiveState {
  const [state, setState] = useState<LiveState>({ connected: false, version: 0 });
  const sampleRef = useRef(onSample);
  sampleRef.current = onSample;
  useEffect(() => {
    const source = new EventSource('/console/api/stream');
    source.addEventListener('open', () => setState((s) => ({ ...s, connected: true })));
    source.addEventListener('error', () => setState((s) => ({ ...s, connected: false })));
    source.addEventListener('hello', () => setState((s) => ({ connected: true, version: s.version + 1 })));
    source.addEventListener('changed', () => setState((s) => ({ connected: true, version: s.version + 1 })));
    source.addEventListener('sample', (event) => sampleRef.current(JSON.parse((event as MessageEvent<string>).data) as HealthSample));
    return () => source.close();
  }, []);
  return state;
}

/**
 * Runs `load` when `version` changes, at most once per `everyMs` (the last change is never missed), and
 * at once when `key` changes (another conversation, another filter).
 */
export function useThrottledReload(version: number, key: string, load: () => Promise<void>, everyMs = 1000): void {
  const last = useRef(0);
  const timer = useRef<number | undefined>(undefined);
  const running = useRef(false);
  const again = useRef(false);
  const loadRef = useRef(load);
  const keyRef = useRef<string | undefined>(undefined);
  loadRef.current = load;
  useEffect(() => {
    const run = async () => {
      if (running.current) {
        again.current = true;
        return;
      }
      running.current = true;
      last.current = Date.now();
      try {
        await loadRef.current();
      } catch {
        // shown by the view; the next change tries again
      } finally {
        running.current = false;
        if (again.current) {
          again.current = false;
          timer.current = window.setTimeout(run, everyMs);
        }
      }
    };
    const keyChanged = keyRef.current !== key;
    keyRef.current = key;
    const wait = keyChanged ? 0 : last.current + everyMs - Date.now();
    window.clearTimeout(timer.current);
    if (wait <= 0) void run();
    else timer.current = window.setTimeout(run, wait);
  }, [version, key, everyMs]);
  useEffect(() => () => window.clearTimeout(timer.current), []);
}

/** Calls `fn` every `everyMs` while mounted. */
export function useInterval(fn: () => void, everyMs: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const id = window.setInterval(() => ref.current(), everyMs);
    return () => window.clearInterval(id);
  }, [everyMs]);
}
