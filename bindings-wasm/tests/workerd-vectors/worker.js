// A module worker that runs the conformance vectors in workerd (web build).
import * as api from './pkg/web.js';
import wasm from './pkg/glue/mfagate_wasm_bg.wasm';
import { runVectors } from './vectors-runner.js';
import files from './vectors.json';

api.initSync({ module: wasm });

export default {
  async fetch(request) {
    if (new URL(request.url).pathname !== '/vectors') return new Response('ok');
    const r = await runVectors(api, files);
    return Response.json(r);
  },
};
