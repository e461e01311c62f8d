'use strict';
// The platforms mfagate publishes a native addon for, and this process's
// platform name in the packages' spelling (napi-rs's convention).
const fs = require('node:fs');

// Every platform an addon is declared for, with its Rust target. The same
// list is package.json's `napi.targets` and bindings-node/npm/<platform>/;
// scripts/dist.sh checks that and writes the published package's
// optionalDependencies from it.
const PLATFORMS = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64-msvc': 'x86_64-pc-windows-msvc',
};

function isMusl() {
  // /usr/bin/ldd names its libc (fast); else glibc reports its version in
  // the process report, and musl has none.
  try {
    const ldd = fs.readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return true;
    if (ldd.includes('GNU C Library') || ldd.includes('glibc')) return false;
  } catch {
    // no ldd: ask the process report
  }
  try {
    const header = process.report && process.report.getReport().header;
    return Boolean(header) && !header.glibcVersionRuntime;
  } catch {
    return false;
  }
}

/** This process's platform name, in the packages' spelling. */
function platformName(platform = process.platform, arch = process.arch) {
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

module.exports = { PLATFORMS, platformName, isMusl };
