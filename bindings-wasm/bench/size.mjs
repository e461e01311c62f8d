// Module size after wasm-opt, raw and gzip (level 9): node bench/size.mjs
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const f = fileURLToPath(new URL('../pkg/glue/mfagate_wasm_bg.wasm', import.meta.url));
const b = readFileSync(f);
const gz = gzipSync(b, { level: 9 }).length;
const glue = readFileSync(fileURLToPath(new URL('../pkg/glue/mfagate_wasm_web.js', import.meta.url)));
console.log(`mfagate_wasm_bg.wasm: ${b.length} bytes raw (${(b.length / 1024).toFixed(1)} KiB), ${gz} bytes gzip -9 (${(gz / 1024).toFixed(1)} KiB); target <= 200 KB gzip: ${gz <= 200 * 1000 ? 'met' : 'MISSED'}`);
console.log(`glue mfagate_wasm.js: ${glue.length} bytes raw, ${gzipSync(glue, { level: 9 }).length} gzip`);
