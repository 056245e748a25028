// Bundles the page (src/page) into dist/page: app.js and app.css with every
// dependency inside (no remote assets), and index.html. Run by `pnpm build`;
// the tests call buildPage() themselves.
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));

export async function buildPage() {
  const outdir = `${root}dist/page`;
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: `${root}src/page/main.ts` },
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    outdir,
    logLevel: 'warning',
  });
  await copyFile(`${root}src/page/index.html`, `${outdir}/index.html`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildPage();
