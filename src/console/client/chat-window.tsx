/** A chat as its customer sees it: bubbles, choice buttons, a box to write. */
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ChatLine {
  id: string;
  from: 'customer' | 'bot' | 'agent' | 'system';
  text: string;
  choices?: Array<{ title: string; value: string }>;
}

interface Props {
  lines: ChatLine[];
  onSend: (text: string) => Promise<void>;
  onChoose?: (line: ChatLine, choice: { title: string; value: string }) => Promise<void>;
  placeholder: string;
  testId: string;
}

export function ChatWindow({ lines, onSend, onChoose, placeholder, testId }: Props) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: 'nearest' }), [lines.length]);

  const send = async (e: Event) => {
    e.preventDefault();
    const value = text.trim();
    if (!value) return;
    setText('');
    try {
      await onSend(value);
      setProblem(undefined);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div class="chat" data-testid={testId}>
      <div class="chat-lines">
        {lines.length === 0 && <p class="muted">Say hello: the bot shows its menu. Try “I want a human” or “ticket”.</p>}
        {lines.map((line) => (
          <div key={line.id} class={`chat-line ${line.from}`}>
            <span class="who">{line.from}</span>
            <span class="text">{line.text}</span>
            {line.choices && line.choices.length > 0 && (
              <span class="choices">
                {line.choices.map((c) => (
                  <button key={c.value} onClick={() => void onChoose?.(line, c).catch((error: unknown) => setProblem(String(error)))}>
                    {c.title}
                  </button>
                ))}
              </span>
            )}
          </div>
        ))}
        <div ref={end} />
      </div>
      {problem && <p class="problem">{problem}</p>}
      <form class="chat-form" onSubmit={(e) => void send(e)}>
        <input value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder={placeholder} aria-label={placeholder} />
        <button type="submit">Send</button>
      </form>
    </div>
  );
}
