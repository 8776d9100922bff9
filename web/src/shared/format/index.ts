export * from './dates';
export * from './digits';
export * from './money';
export * from './phone';
export * from './search';
