import { runtimeConformance } from './conformance';

// Berth's built-in runtime (src/runtime/builtin/): skipped until `npm run build` built its executor.
runtimeConformance('berth');
