// Print the notice shipped beside the bundle: every bundled package, its version and licence,
// then the licence texts (all of them MIT at the time of writing).
import { readFileSync, existsSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const bundled = Object.entries(lock.packages)
  .filter(([path]) => path.startsWith("node_modules/") && !path.includes("esbuild"))
  .map(([path, meta]) => ({ name: path.slice("node_modules/".length), ...meta }));

const lines = [
  "codemirror.min.js bundles these npm packages (built by editor_bundle/build.sh with esbuild):",
  "",
  ...bundled.map((p) => `  ${p.name}@${p.version}  ${p.license}`),
  "",
];
const seen = new Set();
for (const p of bundled) {
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt"]
    .map((f) => `node_modules/${p.name}/${f}`)
    .find(existsSync);
  const text = file ? readFileSync(file, "utf8").trim() : `(no licence file; package.json says ${p.license})`;
  if (seen.has(text)) continue;
  seen.add(text);
  lines.push("-".repeat(72), `Licence of ${p.name} (and of every package above with the same text):`, "", text, "");
}
process.stdout.write(lines.join("\n"));
