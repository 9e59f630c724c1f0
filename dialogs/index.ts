/** Platform-neutral dialogs and middleware for handoff and ticket escalation, and the vocabulary they speak. */
export * from '../src/control/vocabulary';
export * from './intents';
export * from './transcript';
export * from './handoff-gate';
export * from './handoff-dialog';
export * from './handoff-interruptible-dialog';
export * from './ticket-desk';
export * from './ticket-dialog';
export * from './handoff-wait';
export * from './handoff-recognizer';
export * from './handoff-request-middleware';
