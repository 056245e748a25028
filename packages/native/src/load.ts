// Finds and loads kmon.node with node-gyp-build: build/Release/ when the
// package was built from source here, else the prebuilt addon shipped in
// prebuilds/<platform>-<arch>/ (the npm package carries linux-x64 and, when
// cross-built, win32-x64). Every way this can fail becomes a KmonError that
// says what to install.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KmonUnsupportedError } from '@kmon/core';
import { WINDOWS_BUILD_HINT } from './windows/options.js';

const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };

/** The package directory: node-gyp-build looks in its build/ and prebuilds/. */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The shared libraries kmon.node links on Linux (libbpf stays shared: the
 * distributions' static libbpf is not position-independent), with the
 * packages that provide them.
 */
export const RUNTIME_LIBRARIES: Readonly<Record<string, string>> = {
  'libbpf.so.1': 'libbpf1 (Debian, Ubuntu) or libbpf (Fedora, Arch), version 1.x',
  'libelf.so.1': 'libelf1 (Debian, Ubuntu) or elfutils-libelf (Fedora)',
  'libz.so.1': 'zlib1g (Debian, Ubuntu) or zlib (Fedora)',
};

const SOURCE_BUILD_HINT =
  'build it from source: `npm rebuild @kmon/native` (needs python3, make, a C++ compiler and libbpf-dev, libelf-dev, zlib1g-dev or their equivalents)';

/** The loaded addon and the file it came from. */
export function loadAddonFile<T>(): { addon: T; path: string } {
  let path: string;
  try {
    path = nodeGypBuild.path(PACKAGE_ROOT);
  } catch (cause) {
    throw new KmonUnsupportedError(`no kmon.node for ${process.platform}-${process.arch} in ${PACKAGE_ROOT}`, {
      hint: process.platform === 'win32' ? WINDOWS_BUILD_HINT : `kmon ships a prebuilt addon for linux-x64; elsewhere ${SOURCE_BUILD_HINT}`,
      cause,
    });
  }
  try {
    return { addon: require(path) as T, path };
  } catch (cause) {
    throw addonLoadError(cause as Error, path);
  }
}

/** Why `path` did not load, as the KmonError that says what to do. */
export function addonLoadError(cause: Error, path: string): KmonUnsupportedError {
  const library = /([\w.+-]+\.so[.\d]*): cannot open shared object file/.exec(cause.message)?.[1];
  if (library) {
    const provider = RUNTIME_LIBRARIES[library];
    return new KmonUnsupportedError(`kmon.node needs the shared library ${library}, which this machine lacks`, {
      hint: provider ? `install ${provider}` : `install the package that provides ${library}`,
      cause,
    });
  }
  return new KmonUnsupportedError(`kmon.node (${path}) failed to load: ${cause.message}`, {
    hint: `it may have been built for another Node or system; ${SOURCE_BUILD_HINT}`,
    cause,
  });
}
