/** Inbenta ticketing: escalation to a ticket with the transcript, and ticket events back. */
export * from './schemas';
export * from './convert';
export * from './auth';
export * from './client';
export * from './verify';
export * from './ticket-links';
export * from './ticket-desk';
export * from './ticket-events';
export * from './register';
