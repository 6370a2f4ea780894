// Mocha root setup: every test run writes into a scratch outputs folder, never the project's outputs/.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

if (!process.env.DENSITY_OUTPUTS) {
  process.env.DENSITY_OUTPUTS = fs.mkdtempSync(path.join(os.tmpdir(), 'density-test-outputs-'));
}
