// Validates each OpenAPI document named on the command line against the
// official JSON Schema of its version (3.1 or 3.2); prints the errors and
// exits 1 if one does not match.
import { Validator } from '@seriousme/openapi-schema-validator';

let failed = false;
for (const file of process.argv.slice(2)) {
  const validator = new Validator();
  const result = await validator.validate(file);
  if (result.valid) {
    console.log(`${file}: valid OpenAPI ${validator.version}`);
  } else {
    failed = true;
    console.log(`${file}: invalid OpenAPI ${validator.version ?? '(unknown version)'}`);
    console.log(JSON.stringify(result.errors, null, 2));
  }
}
process.exit(failed ? 1 : 0);
