// The CDK app `cdk synth` and `cdk deploy` run: reads the fleet config named by context and checks the result with cdk-nag.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { defineStorefleet } from './define-storefleet.ts';
import { loadFleetConfigFile, readDeployContext } from './deploy-context.ts';

const app = new App();
const context = readDeployContext(app.node);
defineStorefleet(app, loadFleetConfigFile(context.configPath), context);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
