#!/usr/bin/env node
import { main } from '../packages/server/dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`ariadne: ${err?.message ?? err}`);
    process.exitCode = 1;
  },
);
