/**
 * Build step (`npm run build`): compiles every request check of openapi/openapi.json into
 * dist/src/api/validation/precompiled-validators.js, so the daemon never runs ajv's compiler
 * while it serves requests.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { OPENAPI_PATH, PRECOMPILED_MODULE, RequestValidators } from './request-validators';

const text = readFileSync(OPENAPI_PATH, 'utf8');
const code = new RequestValidators(JSON.parse(text)).standaloneModule(text);
writeFileSync(`${PRECOMPILED_MODULE}.tmp`, code);
renameSync(`${PRECOMPILED_MODULE}.tmp`, PRECOMPILED_MODULE);
console.log(`request validators precompiled: ${PRECOMPILED_MODULE} (${Math.round(code.length / 1024)} KiB)`);
