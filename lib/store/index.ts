// lib/store: descriptors (canonical JSON, hash, defaults, validation), run records, atomic writes, locks.
export * from './descriptor';
export * from './canonical';
export * from './atomic';
export * from './lock';
export * from './bits';
export * from './runRecord';
