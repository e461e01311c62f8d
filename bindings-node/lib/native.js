'use strict';
// Loads the native addon (napi-rs). Published, it comes in one package per
// platform, `mfagate-<platform>`, an optional dependency of `mfagate` that
// npm installs only where it fits (its package.json says `os`, `cpu` and
// `libc`). In a checkout, `napi build --platform` puts
// `mfagate.<platform>.node` at the package root, which wins.
const fs = require('node:fs');
const path = require('node:path');

const { PLATFORMS, platformName, isMusl } = require('./platforms.js');

function load() {
  const name = platformName();
  const local = path.join(__dirname, '..', `mfagate.${name}.node`);
  const pkg = `mfagate-${name}`;
  const tried = [];
  if (fs.existsSync(local)) {
    try {
      return require(local);
    } catch (e) {
      tried.push(`${local}: ${e.message}`);
    }
  } else {
    tried.push(`${local}: not there (a checkout's \`napi build --platform\` writes it)`);
  }
  if (Object.hasOwn(PLATFORMS, name)) {
    try {
      return require(pkg);
    } catch (e) {
      tried.push(`the package ${pkg}: ${e.code === 'MODULE_NOT_FOUND' && e.message.includes(`'${pkg}'`) ? 'not installed' : e.message}`);
    }
  }
  const supported = Object.keys(PLATFORMS).join(', ');
  const libc = process.platform === 'linux' ? `, libc ${isMusl() ? 'musl' : 'glibc'}` : '';
  const what = `mfagate: no native addon could be loaded for this platform, ${name} (process.platform ${process.platform}, process.arch ${process.arch}${libc}).`;
  const looked = `Looked for:\n  - ${tried.join('\n  - ')}`;
  const fix = Object.hasOwn(PLATFORMS, name)
    ? `${pkg} is an optional dependency of mfagate: npm installs it unless optional dependencies are left out (--omit=optional, --no-optional) or the lock file was made on another platform. Run \`npm install ${pkg}\` (or reinstall mfagate without those options).`
    : `mfagate publishes addons for ${supported}; ${name} is not one of them (no package mfagate-${name} exists). On other platforms use the WebAssembly package, mfagate-wasm, which runs the same engine in Node.`;
  const err = new Error(`${what}\n${looked}\n${fix}`);
  err.code = 'MFAGATE_NATIVE_UNAVAILABLE';
  err.platform = name;
  err.tried = tried;
  throw err;
}

module.exports = load();
