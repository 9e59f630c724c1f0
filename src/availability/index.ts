/** Whether a human can answer now: business hours, time zones, the verdict, and the queue position. */
export * from './availability-verdict';
export * from './human-availability';
export * from './weekly-schedule';
export * from './parse-hours';
export * from './zoned-time';
export * from './describe-opening';
export * from './schedule-availability';
export * from './channel-availability';
export * from './queue-position';
