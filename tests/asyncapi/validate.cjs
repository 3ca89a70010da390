// Validates AsyncAPI documents with the reference parser (@asyncapi/parser), offline.
//   node validate.cjs <parser install dir> <document.yaml>...
// Prints one JSON line per document: {file, errors: [...], warnings: n}; exits 1 on any error.
const fs = require("fs");
const path = require("path");

const [dir, ...files] = process.argv.slice(2);
const { Parser } = require(path.join(dir, "node_modules", "@asyncapi", "parser"));

(async () => {
  const parser = new Parser();
  let failed = false;
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"));
    // Severity 0 is an error; 1 a warning, 2 information, 3 a hint.
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => ({
      message: d.message, path: d.path.join("."),
    }));
    const warnings = diagnostics.filter((d) => d.severity === 1).map((d) => d.message);
    if (errors.length || !document) failed = true;
    console.log(JSON.stringify({
      file, errors, warnings,
      channels: document ? document.channels().all().map((c) => c.address()) : [],
      messages: document ? document.allMessages().all().map((m) => m.id()) : [],
    }));
  }
  process.exit(failed ? 1 : 0);
})();
