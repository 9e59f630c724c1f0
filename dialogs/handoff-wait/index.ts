/** After a handoff: the wait, the no-answer ladder, the wait notices and the no-answer offer. */
export * from './handoff-waits';
export * from './no-answer-ladder';
export * from './wait-notices';
export * from './no-answer-dialog';
