#!/usr/bin/env node
"use strict";
// The CLI runs from TypeScript sources through ts-node (type checking happens
// in `make typecheck`, so start-up only transpiles).
const path = require("node:path");
require("ts-node").register({
  project: path.join(__dirname, "..", "tsconfig.json"),
  transpileOnly: true
});
require("../host-tools/src/cli/main")
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`privatetracer: internal error: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 70;
    }
  );
