// The cdk-nag findings every storefleet function raises by construction, acknowledged on the function's own role.
import { Validations } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';

const BASIC_EXECUTION_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const VPC_EXECUTION_ROLE =
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

/** Acknowledges the AWS-managed execution policies on this function's role, and nothing broader. */
export function acknowledgeFunctionFindings(fn: NodejsFunction): void {
  const role = fn.role;
  if (!role) return;
  Validations.of(role).acknowledge({
    id: BASIC_EXECUTION_ROLE,
    reason: 'The AWS-managed basic execution policy only lets the function write its own logs.',
  });
  if (fn.isBoundToVpc) {
    Validations.of(role).acknowledge({
      id: VPC_EXECUTION_ROLE,
      reason:
        'The AWS-managed VPC execution policy only manages the function’s network interfaces.',
    });
  }
}
