export * from './transcript-store';
export * from './format-transcript';
