#!/usr/bin/env node
// validate.mjs <cyclonedx|spdx> FILE...
// Validates SBOMs with the real schema validators: CycloneDX 1.6 via
// @cyclonedx/cyclonedx-library's JsonStrictValidator, SPDX 2.3 via ajv with
// the official SPDX 2.3 JSON schema (vendored in spdx-schema-2.3.json, see
// NOTICE). Prints "FILE: valid KIND" or "FILE: invalid KIND:" and the errors
// for each file (the schemas are compiled once, so pass many files at once).
// Exits 0 when all are valid, 1 when any is invalid, 2 on usage or setup errors.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

async function cycloneDXValidator() {
  const { Spec, Validation } = await import('@cyclonedx/cyclonedx-library');
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  return async (text) => {
    const doc = JSON.parse(text);
    if (doc.specVersion !== '1.6') {
      return [`specVersion is ${JSON.stringify(doc.specVersion)}, want "1.6"`];
    }
    const err = await validator.validate(text);
    return err === null ? [] : [JSON.stringify(err, null, 2)];
  };
}

async function spdxValidator() {
  const { default: Ajv } = await import('ajv'); // the schema is draft-07
  const { default: addFormats } = await import('ajv-formats');
  const schema = JSON.parse(await readFile(path.join(here, 'spdx-schema-2.3.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return async (text) => {
    const doc = JSON.parse(text);
    const errs = [];
    if (!validate(doc)) {
      for (const e of validate.errors) errs.push(`${e.instancePath || '/'}: ${e.message} ${JSON.stringify(e.params)}`);
    }
    if (doc.spdxVersion !== 'SPDX-2.3') errs.push(`/spdxVersion: is ${JSON.stringify(doc.spdxVersion)}, want "SPDX-2.3"`);
    return errs;
  };
}

const [kind, ...files] = process.argv.slice(2);
const validators = { cyclonedx: cycloneDXValidator, spdx: spdxValidator };
if (!validators[kind] || files.length === 0) {
  console.error('usage: validate.mjs <cyclonedx|spdx> FILE...');
  process.exit(2);
}
let check;
try {
  check = await validators[kind]();
} catch (e) {
  console.error(`validate.mjs: setting up the ${kind} validator: ${e.stack || e}`);
  process.exit(2);
}
let invalid = 0;
for (const file of files) {
  let errs;
  try {
    errs = await check(await readFile(file, 'utf8'));
  } catch (e) {
    if (!(e instanceof SyntaxError)) {
      console.error(`validate.mjs: ${file}: ${e.stack || e}`);
      process.exit(2);
    }
    errs = [`not JSON: ${e.message}`];
  }
  if (errs.length === 0) {
    console.log(`${file}: valid ${kind}`);
    continue;
  }
  invalid++;
  console.log(`${file}: invalid ${kind}:`);
  for (const e of errs) console.log(`  ${e}`);
}
process.exit(invalid > 0 ? 1 : 0);
