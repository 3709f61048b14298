// One Lambda function as every storefleet function is built: Node 24 on arm64, an ESM bundle made by the local esbuild.
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root: entries, package-lock.json and node_modules are resolved from here. */
export const PROJECT_ROOT = join(import.meta.dirname, '..');

/** esbuild emits ESM; bundled CommonJS dependencies still call `require`, which ESM lacks. */
const REQUIRE_SHIM =
  "import { createRequire as storefleetCreateRequire } from 'node:module'; const require = storefleetCreateRequire(import.meta.url);";

const DEFAULT_MEMORY_MIB = 512;
const DEFAULT_TIMEOUT = Duration.seconds(30);
const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/** Thrown when a function's handler file does not exist; says which file and how to proceed. */
export class MissingHandlerError extends Error {
  constructor(entry: string, absolute: string, functionName: string) {
    super(
      `${functionName}: handler ${entry} does not exist (looked for ${absolute}). ` +
        'Add the handler, or synthesise against another entry with -c lambdaEntryOverride=PATH.',
    );
    this.name = 'MissingHandlerError';
  }
}

/** Thrown by the app when handler files are missing; lists all of them. */
export class MissingHandlersError extends Error {
  constructor(missing: readonly string[]) {
    super(
      `these Lambda handlers do not exist yet:\n${missing.map((line) => `  - ${line}`).join('\n')}\n` +
        'Add them, or synthesise the infrastructure against one stand-in entry with -c lambdaEntryOverride=PATH.',
    );
    this.name = 'MissingHandlersError';
  }
}

export interface StorefleetFunctionProps {
  /** Handler file, relative to the repository root (e.g. `lambdas/api/handler.ts`) or absolute. */
  entry: string;
  description: string;
  environment?: Record<string, string>;
  /**
   * @default 512
   */
  memorySize?: number;
  /**
   * @default Duration.seconds(30)
   */
  timeout?: Duration;
  /**
   * Runs the function inside this VPC.
   * @default - outside any VPC
   */
  vpc?: ec2.IVpc;
  /**
   * Subnets within `vpc`.
   * @default - the VPC's private subnets
   */
  vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups when in a VPC.
   * @default - a new security group
   */
  securityGroups?: ec2.ISecurityGroup[];
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  logRetention?: logs.RetentionDays;
  /**
   * Caps (and reserves) the function's concurrent runs.
   * @default - unreserved
   */
  reservedConcurrentExecutions?: number;
}

/** A NodejsFunction with storefleet's runtime, architecture, bundling and log settings. */
export class StorefleetFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: StorefleetFunctionProps) {
    const entry = isAbsolute(props.entry) ? props.entry : join(PROJECT_ROOT, props.entry);
    if (!existsSync(entry)) {
      const shown = isAbsolute(props.entry) ? relative(PROJECT_ROOT, props.entry) : props.entry;
      throw new MissingHandlerError(shown, entry, `${scope.node.path}/${id}`);
    }
    // The log group is created in the scope rather than under the function so the id is free before super().
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MIB,
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: props.environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        banner: REQUIRE_SHIM,
        forceDockerBundling: false,
        // The nodejs24.x runtime ships AWS SDK v3; bundling it again would only add cold-start time.
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}
