# workerd configuration of the edge gate: `workerd serve config.capnp`
# (after `bash bindings-wasm/build.sh`). The gate listens on 127.0.0.1:8787
# and forwards allowed requests to the origin at 127.0.0.1:8080, which also
# serves the JWK Set at /.well-known/jwks.json in this demo.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "gate", worker = .gate),
    (name = "origin", external = (address = "127.0.0.1:8080", http = ())),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "gate") ],
);

const gate :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    # The package mfagate-wasm (web build), under the names it imports itself by.
    (name = "mfagate-wasm", esModule = embed "../../bindings-wasm/pkg/web.js"),
    (name = "glue/mfagate_wasm_web.js", esModule = embed "../../bindings-wasm/pkg/glue/mfagate_wasm_web.js"),
    (name = "errors.js", esModule = embed "../../bindings-wasm/pkg/errors.js"),
    (name = "jwks.js", esModule = embed "../../bindings-wasm/pkg/jwks.js"),
    (name = "mfagate-wasm/mfagate_wasm_bg.wasm", wasm = embed "../../bindings-wasm/pkg/glue/mfagate_wasm_bg.wasm"),
  ],
  bindings = [
    (name = "ORIGIN", service = "origin"),
    (name = "JWKS", service = "origin"),
    # https: the cache fetches nothing else (but loopback); the JWKS binding
    # carries the request to the origin, whatever the URL's host.
    (name = "JWKS_URL", text = "https://origin.internal/.well-known/jwks.json"),
    # The built-in policy and what every deployment configures: the partner
    # tenant (roles are read only from its tokens).
    (name = "MFAGATE_POLICY", text = "{\"builtin\": \"partner-center\", \"overrides\": {\"token\": {\"partner_tenants\": [\"df845f1a-7b35-40a2-ba78-6481de91f8ae\"]}}}"),
    (name = "JWKS_MIN_REFRESH_SECONDS", text = "1"),
  ],
  compatibilityDate = "2025-09-01",
);
