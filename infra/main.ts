import { App } from 'cdktf';
import { DatasyncStack } from './datasync-stack';
import { InputError, readInputs } from './inputs';

/** `npm run synth` / `cdktf deploy`: inputs from DATASYNC_* variables or cdktf context. */
const app = new App();
try {
  const inputs = readInputs(process.env, (key) => app.node.tryGetContext(key));
  if (inputs.packagePath.endsWith('run-npm-run-package-first.zip')) {
    process.stderr.write(
      'datasync infra: no code package found; run `npm run package` before `cdktf deploy`\n',
    );
  }
  if (inputs.skippedSettings.length > 0) {
    process.stderr.write(
      `datasync infra: not deployed (local host only): ${inputs.skippedSettings.join(', ')}\n`,
    );
  }
  new DatasyncStack(app, 'datasync', inputs);
  app.synth();
} catch (error) {
  if (!(error instanceof InputError) && (error as Error).name !== 'ConfigError') throw error;
  process.stderr.write(`datasync infra: ${(error as Error).message}\n`);
  process.exit(2);
}
