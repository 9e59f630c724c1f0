/**
 * Which conversation's turn the current async call runs inside. A proactive call for the same
 * conversation made from inside its own turn runs at once (queueing it would wait for itself);
 * from anywhere else it waits its place in the conversation's queue.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<string>();

export function runInTurnScope<T>(conversationKey: string, fn: () => Promise<T>): Promise<T> {
  return scope.run(conversationKey, fn);
}

export function currentTurnConversation(): string | undefined {
  return scope.getStore();
}
