// @actions/core's own getIDToken against ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN.
// getIDToken prints `::add-mask::` on stdout, so the JWT goes to the file
// named by argv[3].
import * as core from '@actions/core';
import { writeFileSync } from 'node:fs';

const [, , audience, out] = process.argv;
try {
  const jwt = await core.getIDToken(audience || undefined);
  writeFileSync(out, jwt);
} catch (e) {
  process.stderr.write(`getIDToken failed: ${e.message}\n`);
  process.exit(1);
}
