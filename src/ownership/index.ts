/** Who owns a conversation: the record, the events that change it, the reducer, the store. */
export * from './ownership-record';
export * from './ownership-event';
export * from './reduce-ownership';
export * from './ownership-store';
