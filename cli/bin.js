#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx datasync` works after `npm install` with no build step.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: tsx must be registered before main.ts loads */
require('tsx/cjs');
const { main } = require('./main.ts');

main(process.argv).then((code) => {
  process.exitCode = code;
});
