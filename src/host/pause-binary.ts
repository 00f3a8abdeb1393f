import { join } from 'node:path';

/** The static infra process built from src/host/native/pause.c (scripts/build-native.js). */
export const PAUSE_BINARY = join(__dirname, 'berth-pause');
