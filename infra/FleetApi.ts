// The fleet's HTTP API (hono on Lambda): IAM-authenticated function URL; read-only routes public through CloudFront.
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { FUNCTION_ENVIRONMENT } from '../fleet/function-environment.ts';
import type { FleetRegistry } from './FleetRegistry.ts';
import { acknowledgeFunctionFindings } from './function-findings.ts';
import { StorefleetFunction } from './StorefleetFunction.ts';

export const API_HANDLER_ENTRY = 'lambdas/api/handler.ts';
/** Concurrent API runs at most; CloudFront's short cache absorbs bursts of reads before they get here. */
export const API_RESERVED_CONCURRENCY = 10;

export interface FleetApiProps {
  fleet: string;
  controlRegion: string;
  probeResults: dynamodb.ITable;
  nodeState: dynamodb.ITable;
  configParameter: ssm.IStringParameter;
  deploymentParameter: ssm.IStringParameter;
  /** Started on demand by `POST` stress requests. */
  stressFunction: lambda.IFunction;
  /**
   * Serves GET and HEAD routes publicly through this registry's distribution under /api/*.
   * @default - the API is reachable only through its IAM-authenticated function URL
   */
  registry?: FleetRegistry;
  /**
   * @default 'lambdas/api/handler.ts'
   */
  entry?: string;
}

export class FleetApi extends Construct {
  readonly function: StorefleetFunction;
  /** SigV4-signed requests only (`lambda:InvokeFunctionUrl`); mutations must come this way. */
  readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: FleetApiProps) {
    super(scope, id);
    this.function = new StorefleetFunction(this, 'Function', {
      entry: props.entry ?? API_HANDLER_ENTRY,
      description: `HTTP API of ${props.fleet}: nodes, reputation, history, on-demand stress tests`,
      // A flood of API calls is capped here rather than taking the account's concurrency from the publisher.
      reservedConcurrentExecutions: API_RESERVED_CONCURRENCY,
      environment: {
        [FUNCTION_ENVIRONMENT.fleet]: props.fleet,
        [FUNCTION_ENVIRONMENT.controlRegion]: props.controlRegion,
        [FUNCTION_ENVIRONMENT.configParameter]: props.configParameter.parameterName,
        [FUNCTION_ENVIRONMENT.deploymentParameter]: props.deploymentParameter.parameterName,
        [FUNCTION_ENVIRONMENT.probeResultsTable]: props.probeResults.tableName,
        [FUNCTION_ENVIRONMENT.nodeStateTable]: props.nodeState.tableName,
        [FUNCTION_ENVIRONMENT.stressFunction]: props.stressFunction.functionName,
      },
    });
    props.probeResults.grantReadData(this.function);
    props.nodeState.grantReadData(this.function);
    // Operator drains and undrains are stored beside the fleet state.
    props.nodeState.grant(this.function, 'dynamodb:PutItem');
    props.stressFunction.grantInvoke(this.function);
    const stack = Stack.of(this);
    Validations.of(this.function.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.stressFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'Starting any version of the fleet stress function on demand; grantInvoke adds the version wildcard.',
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [props.configParameter.parameterArn, props.deploymentParameter.parameterArn],
      }),
    );
    acknowledgeFunctionFindings(this.function);

    this.functionUrl = this.function.addFunctionUrl({
      authType: lambda.FunctionUrlAuthType.AWS_IAM,
    });
    props.registry?.addReadOnlyApi(this.functionUrl);
  }
}
