export * from './dates';
export * from './digits';
export * from './money';
export * from './phone';
export * from './search';
export * from './countdown';
