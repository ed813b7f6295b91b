// Bundles the page into OUTDIR (default: dist/): the HTML as written,
// app.js with xterm.js (and its CSS) from node_modules, login.js and the
// style sheet. meson runs it (web/meson.build) into build/web/page.
//   node build.mjs [OUTDIR]
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const dist = resolve(process.argv[2] || `${here}dist`);
rmSync(dist, { recursive: true, force: true });
mkdirSync(`${dist}/assets`, { recursive: true });
for (const page of ["index.html", "login.html"])
  cpSync(`${here}src/${page}`, `${dist}/${page}`);
cpSync(`${here}src/style.css`, `${dist}/assets/style.css`);
await build({
  entryPoints: { app: `${here}src/app.js`, login: `${here}src/login.js` },
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  sourcemap: true,
  outdir: `${dist}/assets`,
  logLevel: "warning",
});
console.log(`built ${dist}`);
