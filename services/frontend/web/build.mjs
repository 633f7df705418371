// Build the storefront's browser telemetry bundle and refresh the axe-core copy of the browser
// tests, from the packages package-lock.json pins (run `npm ci` first; node is never needed to
// run the shop: both outputs are committed).
//
//   node build.mjs                 write both into the repository
//   node build.mjs --out <dir>     write <dir>/otel-web.js and <dir>/axe-core/ instead
//
// The output depends only on the inputs (esbuild is deterministic, no timestamps, no absolute
// paths), so a rebuild is byte-identical; tests/e2e/test_browser_trace.py checks that.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
// The files a bundle is made from; their digest is written into the bundle's header.
export const INPUTS = ["package.json", "package-lock.json", "build.mjs", "src/otel-web.js"];

function outputs(argv) {
  const at = argv.indexOf("--out");
  if (at >= 0) {
    const dir = argv[at + 1];
    return { bundle: join(dir, "otel-web.js"), axe: join(dir, "axe-core") };
  }
  return {
    bundle: join(here, "../src/frontend/static/js/otel-web.js"),
    axe: join(here, "../../../tests/e2e/vendor/axe-core"),
  };
}

function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

function inputsDigest() {
  const hash = createHash("sha256");
  for (const name of INPUTS) {
    hash.update(`${name}\n`);
    hash.update(readFileSync(join(here, name)));
    hash.update("\n");
  }
  return hash.digest("hex");
}

// name@version (license) of every package that has a file in the bundle, from the metafile.
function bundledPackages(metafile) {
  const found = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match && !found.has(match[1])) {
      const meta = JSON.parse(readFileSync(join(here, "node_modules", match[1], "package.json")));
      found.set(match[1], `${meta.name}@${meta.version} (${meta.license})`);
    }
  }
  return [...found.values()].sort();
}

async function buildBundle(path) {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ["src/otel-web.js"],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    platform: "browser",
    legalComments: "none",
    metafile: true,
    write: false,
    logLevel: "warning",
  });
  const body = result.outputFiles[0].contents;
  const header = [
    "/*! otel-web.js: Lantern Shop's browser telemetry (services/frontend/web/src/otel-web.js),",
    ` * built by services/frontend/web/build.mjs with esbuild@${esbuild.version}. Do not edit.`,
    ` * bundled: ${bundledPackages(result.metafile).join(", ")}`,
    ` * inputs-sha256: ${inputsDigest()}`,
    ` * body-sha256: ${sha256(body)}`,
    " */",
    "",
  ].join("\n");
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.concat([Buffer.from(header), body]));
  console.log(`${path}: ${header.length + body.length} bytes`);
}

function vendorAxe(dir) {
  const source = join(here, "node_modules", "axe-core");
  const meta = JSON.parse(readFileSync(join(source, "package.json")));
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(source, "axe.min.js"), join(dir, "axe.min.js"));
  copyFileSync(join(source, "LICENSE"), join(dir, "LICENSE"));
  const script = readFileSync(join(dir, "axe.min.js"));
  writeFileSync(
    join(dir, "VERSION"),
    `${meta.name}@${meta.version} (${meta.license})\naxe.min.js sha256 ${sha256(script)}\n`,
  );
  console.log(`${dir}: ${meta.name}@${meta.version}`);
}

const out = outputs(process.argv.slice(2));
await buildBundle(out.bundle);
vendorAxe(out.axe);
